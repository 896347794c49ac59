// Bundle the app: src/main.ts (and the CSS it imports) -> dist/assets/*-[hash].{js,css},
// then dist/index.html from src/index.html with the hashed names filled in.
// The output is deterministic: the same sources and lockfile give the same bytes, which is
// how scripts/test tells that the committed bundle is stale.
import { build } from 'esbuild'
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const dist = join(here, 'dist')
rmSync(dist, { recursive: true, force: true })
mkdirSync(join(dist, 'assets'), { recursive: true })

// Pyodide's core files (the labs' in-browser Python) are copied into dist/pyodide/<version>/
// and committed (about 13.5 MB), so a node installed without node_modules serves them too.
const pyodideDir = join(here, 'node_modules/pyodide')
const pyodideVersion = JSON.parse(readFileSync(join(pyodideDir, 'package.json'), 'utf8')).version
const PYODIDE_FILES = ['pyodide.mjs', 'pyodide.asm.mjs', 'pyodide.asm.wasm', 'python_stdlib.zip', 'pyodide-lock.json']
mkdirSync(join(dist, 'pyodide', pyodideVersion), { recursive: true })
for (const name of PYODIDE_FILES) {
  const target = join(dist, 'pyodide', pyodideVersion, name)
  copyFileSync(join(pyodideDir, name), target)
  chmodSync(target, 0o644)
}

// The Python worker is a bundle of its own; the app learns its hashed name at build time.
const workerBuild = await build({
  entryPoints: { 'pyodide-worker': join(here, 'src/labs/pyodideWorker.ts') },
  bundle: true,
  format: 'esm',
  target: ['es2022', 'chrome109', 'firefox115', 'safari16'],
  minify: true,
  legalComments: 'eof',
  sourcemap: false,
  outdir: join(dist, 'assets'),
  entryNames: '[name]-[hash]',
  metafile: true,
  charset: 'utf8',
  logLevel: 'warning',
  absWorkingDir: here,
  preserveSymlinks: true,
  define: { __PYODIDE_INDEX_URL__: JSON.stringify(`/pyodide/${pyodideVersion}/`) },
})
const workerName = basename(Object.keys(workerBuild.metafile.outputs)[0])

const result = await build({
  entryPoints: { app: join(here, 'src/main.ts') },
  bundle: true,
  format: 'esm',
  target: ['es2022', 'chrome109', 'firefox115', 'safari16'],
  minify: true,
  legalComments: 'eof',
  sourcemap: false,
  outdir: join(dist, 'assets'),
  entryNames: '[name]-[hash]',
  // Pages' heavy libraries (tus-js-client, hls.js) load on demand, in chunks of their own.
  splitting: true,
  chunkNames: 'chunk-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  charset: 'utf8',
  logLevel: 'warning',
  absWorkingDir: here,
  // Paths through a symlinked node_modules (a worktree sharing another's) hash the same.
  preserveSymlinks: true,
  define: { __PYODIDE_WORKER__: JSON.stringify(`/assets/${workerName}`) },
})

const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p))
const js = outputs.find((name) => name.startsWith('app-') && name.endsWith('.js'))
const css = outputs.find((name) => name.startsWith('app-') && name.endsWith('.css'))
if (!js || !css) throw new Error(`unexpected outputs: ${outputs.join(', ')}`)
const html = readFileSync(join(here, 'src/index.html'), 'utf8')
  .replace('%APP_JS%', `/assets/${js}`)
  .replace('%APP_CSS%', `/assets/${css}`)
writeFileSync(join(dist, 'index.html'), html)
const sizes = { ...result.metafile.outputs, ...workerBuild.metafile.outputs }
for (const name of [...outputs, workerName].sort()) {
  const size = sizes[`dist/assets/${name}`]?.bytes ?? 0
  console.log(`dist/assets/${name}  ${(size / 1024).toFixed(1)} KiB`)
}
