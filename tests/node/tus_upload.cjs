// Upload one file with the stock tus-js-client (Node): node tus_upload.cjs ENDPOINT TOKEN FILE CHUNK
// Prints {"url": ..., "offset": ...} on success; exits 1 with the error otherwise.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const tus = require("tus-js-client");

const [endpoint, token, file, chunk] = process.argv.slice(2);
const data = fs.readFileSync(file);
const upload = new tus.Upload(data, {
  endpoint,
  headers: { Authorization: `Bearer ${token}` },
  metadata: { filename: path.basename(file), filetype: "application/pdf" },
  chunkSize: Number(chunk),
  retryDelays: [0, 200, 500],
  removeFingerprintOnSuccess: true,
  onError(error) {
    process.stderr.write(String(error) + "\n");
    process.exit(1);
  },
  onSuccess() {
    process.stdout.write(JSON.stringify({ url: upload.url, size: data.length }) + "\n");
  },
});
upload.start();
