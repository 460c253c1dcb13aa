#!/usr/bin/env node
// The sources are TypeScript that Node runs directly (type stripping, Node >= 22.18); check the
// version first so that an old Node gets one clear line instead of a syntax error.
const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(`hubless: needs Node.js >= 22.19 (this is ${process.versions.node}); install Node 24 LTS\n`)
  process.exit(1)
}
const { main } = await import('../src/main.ts')
process.exitCode = await main(process.argv.slice(2))
