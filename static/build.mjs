// Bundle the app: src/main.ts (and the CSS it imports) -> dist/assets/*-[hash].{js,css},
// then dist/index.html from src/index.html with the hashed names filled in.
// The output is deterministic: the same sources and lockfile give the same bytes, which is
// how scripts/test tells that the committed bundle is stale.
import { build } from 'esbuild'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const dist = join(here, 'dist')
rmSync(dist, { recursive: true, force: true })
mkdirSync(join(dist, 'assets'), { recursive: true })

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
})

const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p))
const js = outputs.find((name) => name.startsWith('app-') && name.endsWith('.js'))
const css = outputs.find((name) => name.startsWith('app-') && name.endsWith('.css'))
if (!js || !css) throw new Error(`unexpected outputs: ${outputs.join(', ')}`)
const html = readFileSync(join(here, 'src/index.html'), 'utf8')
  .replace('%APP_JS%', `/assets/${js}`)
  .replace('%APP_CSS%', `/assets/${css}`)
writeFileSync(join(dist, 'index.html'), html)
for (const name of outputs.sort()) {
  const size = result.metafile.outputs[`dist/assets/${name}`]?.bytes ?? 0
  console.log(`dist/assets/${name}  ${(size / 1024).toFixed(1)} KiB`)
}
