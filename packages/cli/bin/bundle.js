// `hubless` runs from one bundled file where it can. From its sources, a mirror's start resolved
// 3,472 modules in 201 packages (stat calls and package.json reads) before doing anything: ~400 ms
// of a restart. The bundle is made with esbuild on the first run after a change, kept in
// node_modules/.cache/hubless/ with the list of the files it was made from, and used while every
// one of them is as it was. HUBLESS_BUNDLE=0 runs the sources. Plain JavaScript, as runtime.js.
import { existsSync, readFileSync, statSync } from 'node:fs'
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
export const BUNDLE_DIRECTORY = fileURLToPath(new URL('../node_modules/.cache/hubless/', import.meta.url))
const MANIFEST = 'bundle.json'
const FORMAT = 1
/** what an install changes even where no file a bundle was made from changes (a package's version moved) */
const INSTALL_STAMPS = ['pnpm-lock.yaml', 'node_modules/.modules.yaml'].map(p => join(ROOT, p))
/** a bundle another process may still be about to load is not removed */
const KEEP_OLD_MS = 10 * 60_000

/**
 * Keeps each module's own `import.meta` in the bundle (the storefront, the embedded catalog and
 * package.json are found next to the sources), and loads classic-level and koffi where they are
 * installed, since each finds its native addon from its own directory
 */
const originalPaths = {
  name: 'hubless-original-paths',
  setup (build) {
    build.onResolve({ filter: /^(classic-level|koffi)$/ }, args => ({ path: createRequire(args.importer).resolve(args.path), external: true }))
    build.onLoad({ filter: /\.(ts|js|mjs|cjs)$/ }, async args => {
      let contents = await readFile(args.path, 'utf8')
      if (contents.includes('import.meta.')) {
        contents = contents
          .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
          .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)))
          .replaceAll('import.meta.filename', JSON.stringify(args.path))
      }
      return { contents, loader: args.path.endsWith('.ts') ? 'ts' : 'js', resolveDir: dirname(args.path) }
    })
  }
}

function fileStamp (path) {
  const s = statSync(path, { throwIfNoEntry: false })
  return s == null ? null : [s.mtimeMs, s.size]
}

/** The bundle the manifest names, if it was made by this Node from files that are all as they were */
function upToDate (directory) {
  let manifest
  try {
    manifest = JSON.parse(readFileSync(join(directory, MANIFEST), 'utf8'))
  } catch {
    return undefined
  }
  if (manifest?.format !== FORMAT || manifest.node !== process.version || !Array.isArray(manifest.inputs)) return undefined
  for (const [path, mtime, size] of manifest.inputs) {
    const now = fileStamp(path)
    if (now?.[0] !== mtime || now[1] !== size) return undefined
  }
  const file = join(directory, manifest.file)
  // and the bundle itself is whole, as it was written
  const bundle = fileStamp(file)
  return bundle?.[0] === manifest.bundle?.[0] && bundle[1] === manifest.bundle?.[1] ? file : undefined
}

async function removeOld (directory, keep) {
  for (const name of await readdir(directory)) {
    if (!name.startsWith('main-') || name === keep) continue
    const path = join(directory, name)
    const s = await stat(path).catch(() => undefined)
    if (s != null && Date.now() - s.mtimeMs > KEEP_OLD_MS) await rm(path, { force: true })
  }
}

async function build (directory) {
  const esbuild = await import('esbuild')
  try {
    return await buildWith(esbuild.build, directory)
  } finally {
    // esbuild builds in a service process it keeps for later builds; a mirror makes one at most
    await esbuild.stop()
  }
}

async function buildWith (build, directory) {
  await mkdir(directory, { recursive: true })
  const file = `main-${Date.now().toString(36)}-${process.pid}.mjs`
  const result = await build({
    entryPoints: [MAIN],
    outfile: join(directory, file),
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    metafile: true,
    logLevel: 'silent',
    // CommonJS packages inside an ES module bundle still call require
    banner: { js: "import { createRequire as __hublessRequire } from 'node:module'; const require = __hublessRequire(import.meta.url);" },
    plugins: [originalPaths]
  })
  const inputs = [...Object.keys(result.metafile.inputs).map(p => resolve(ROOT, p)), ...INSTALL_STAMPS.filter(p => existsSync(p))]
  const manifest = { format: FORMAT, node: process.version, file, bundle: fileStamp(join(directory, file)), inputs: inputs.map(path => [path, ...fileStamp(path)]) }
  const temporary = join(directory, `${MANIFEST}.${process.pid}.tmp`)
  await writeFile(temporary, JSON.stringify(manifest))
  // processes that build at once each write a whole bundle; the last manifest renamed in wins
  await rename(temporary, join(directory, MANIFEST))
  await removeOld(directory, file)
  return join(directory, file)
}

/**
 * The path of an up-to-date bundle of `src/main.ts`, made now if needed; undefined where there is
 * none to be had (HUBLESS_BUNDLE=0, no esbuild, a read-only install): then the sources run.
 */
export async function bundledMain ({ directory = BUNDLE_DIRECTORY, env = process.env } = {}) {
  if (env.HUBLESS_BUNDLE === '0') return undefined
  const current = upToDate(directory)
  if (current != null) return current
  try {
    return await build(directory)
  } catch (err) {
    if (env.DEBUG != null) process.stderr.write(`hubless: running from the sources, the bundle could not be made: ${err.message}\n`)
    return undefined
  }
}
