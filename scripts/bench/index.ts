/**
 * `pnpm bench [NAME…]`: runs every benchmark in this folder (or the named ones), each in its own
 * Node process so that one's heap and caches do not colour another's figures. Each benchmark
 * measures its own baseline in the same run, prints ratios against it, and writes
 * bench-results/NAME.json; this runner prints a summary of which ran and which failed.
 */
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const available = readdirSync(here)
  .filter(file => file.endsWith('.ts') && file !== 'index.ts')
  .map(file => basename(file, '.ts'))
  .sort()

const requested = process.argv.slice(2)
const unknown = requested.filter(name => !available.includes(name))
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${available.join(', ')}`)
  process.exit(2)
}

const failed: string[] = []
for (const name of requested.length > 0 ? requested : available) {
  console.log(`\n=== bench ${name}`)
  const result = spawnSync(process.execPath, ['--expose-gc', join(here, `${name}.ts`)], { stdio: 'inherit' })
  if (result.status !== 0) {
    failed.push(name)
  }
}
console.log(failed.length === 0 ? '\nall benchmarks ran' : `\nfailed: ${failed.join(', ')}`)
process.exit(failed.length === 0 ? 0 : 1)
