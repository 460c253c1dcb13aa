/**
 * How long a `hubless` command takes as a whole process, against `node -e 0` measured in the same
 * run: `--version` and `--help`; `search`, `show` and `status` with no daemon (answered from the
 * saved index) and through a running daemon; at ~2,000 apps (AppImageHub's catalog, shipped in
 * data/, and copies of its first entries under new ids).
 *
 * Run: node scripts/bench/cli-latency.ts (or pnpm bench cli-latency). RUNS=N sets the runs per
 * command (default 15, after one warm-up each); HUBLESS_BIN=PATH times another checkout's
 * bin/hubless.js (a before/after comparison).
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { percentile, report } from './lib/report.ts'
import type { Figure } from './lib/report.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const bin = resolve(process.env.HUBLESS_BIN ?? join(root, 'packages', 'cli', 'bin', 'hubless.js'))
const RUNS = Number(process.env.RUNS ?? 15)
const APPS = 2000
const dir = mkdtempSync(join(tmpdir(), 'hubless-bench-cli-'))
const dataDir = join(dir, 'data')
const env = { ...process.env, HUBLESS_DATA_DIR: dataDir, DEBUG: '' }

/** AppImageHub's catalog and copies of its first entries under new ids, `total` entries in all */
function catalogOf (total: number): string {
  const items = JSON.parse(readFileSync(join(root, 'data', 'appimagehub-apps.json'), 'utf8')) as Array<Record<string, unknown>>
  const extra = items.slice(0, Math.max(0, total - items.length)).map((item, i) => JSON.parse(
    JSON.stringify(item).replaceAll(String(item.id), `${String(item.id)}Copy${i}`)
  ) as Record<string, unknown>)
  const file = join(dir, 'catalog.json')
  writeFileSync(file, JSON.stringify([...items, ...extra]))
  return file
}

function hubless (args: string[]): string {
  const result = spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`hubless ${args.join(' ')} exited ${result.status}: ${result.stderr}`)
  return result.stdout
}

/** wall-clock ms of each run of the command, after a warm-up (which also fills Node's compile cache) */
function time (args: string[]): number[] {
  const samples: number[] = []
  for (let i = 0; i <= RUNS; i++) {
    const start = performance.now()
    const result = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] })
    const ms = performance.now() - start
    if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${String(result.stderr)}`)
    if (i > 0) samples.push(ms)
  }
  return samples
}

const median = (samples: number[]): number => percentile(samples, 50)

try {
  hubless(['init'])
  const imported = JSON.parse(hubless(['import', 'appimagehub', catalogOf(APPS), '--json'])) as { total: number, appended: number }
  const appId = 'org.kde.krita'
  const shown = hubless(['show', appId, '--json'])
  if (!shown.includes(appId)) throw new Error(`${appId} is not in the catalog`)
  console.log(`catalog: ${imported.appended} records from ${imported.total} entries; ${RUNS} runs a command`)

  const baseline = time(['-e', '0'])
  const commands: Array<[string, string[], number]> = [
    ['--version', ['--version'], 150],
    ['--help', ['--help'], 150],
    ['search (no daemon)', ['search', 'video', 'editor'], 300],
    ['show (no daemon)', ['show', appId], 300],
    ['status (no daemon)', ['status'], 300]
  ]
  const results: Record<string, number[]> = { 'node -e 0': baseline }
  for (const [name, args] of commands) results[name] = time([bin, ...args])

  const daemon = spawn(process.execPath, [bin, 'daemon', '--http', '127.0.0.1:0', '--json'], { env, stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    await new Promise<void>((resolveReady, reject) => {
      const timer = setTimeout(() => { reject(new Error('the daemon did not start within 60 s')) }, 60_000)
      daemon.stdout.once('data', () => { clearTimeout(timer); resolveReady() })
      daemon.once('exit', code => { clearTimeout(timer); reject(new Error(`the daemon exited ${code}`)) })
    })
    for (const [name, args] of commands.slice(2)) {
      const through = name.replace('no daemon', 'through the daemon')
      commands.push([through, args, 150])
      results[through] = time([bin, ...args])
    }
  } finally {
    daemon.kill('SIGTERM')
    await new Promise(resolveExit => daemon.once('exit', resolveExit))
  }

  const figures: Figure[] = [
    { name: 'node -e 0 (baseline)', value: median(baseline), unit: 'ms' },
    ...commands.map(([name, , goal]) => ({ name: `hubless ${name}`, value: median(results[name]!), unit: 'ms', baseline: median(baseline), goal: `<= ${goal} ms` }))
  ]
  report('cli-latency', figures, {
    bin,
    apps: APPS,
    runs: RUNS,
    p90: Object.fromEntries(Object.entries(results).map(([name, samples]) => [name, percentile(samples, 90)]))
  })
} finally {
  rmSync(dir, { recursive: true, force: true })
}
