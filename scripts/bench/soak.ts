/**
 * Soak: a mirror (in this process: node, registry, catalog, HTTP API, pinner) under continuous
 * publishing (a separate process, RATE records/s) and queries (this process, over HTTP) for a
 * bounded time: `node --expose-gc scripts/bench/soak.ts [SECONDS] [RATE]` (default 60 s, 20/s).
 * Samples the heap after a full collection, RSS and the active handles every few seconds.
 * Baseline, measured in the same run: the mirror after warm-up. Figures: heap growth per record
 * added (against the bytes of the records themselves), handles at the end against the baseline,
 * query latency at the end against the start.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
// the mirror (and the data-dir layout it opens) move to the mirror package; until then neither has a package entry point
import { startBenchMirror } from './lib/mirror-node.ts'
import { percentile, report } from './lib/report.ts'

const SECONDS = Number(process.argv[2] ?? 60)
const RATE = Number(process.argv[3] ?? 20)
const WARMUP = Math.min(10, SECONDS / 4)
const here = dirname(fileURLToPath(import.meta.url))

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
async function heap (): Promise<number> {
  for (let i = 0; i < 3; i++) { gc(); await new Promise(resolve => setTimeout(resolve, 20)) }
  return process.memoryUsage().heapUsed
}
function handles (): number {
  return (process as unknown as { _getActiveHandles: () => unknown[] })._getActiveHandles().length
}

interface Sample { t: number, records: number, heap: number, rss: number, handles: number, p50: number }

const root = await mkdtemp(join(tmpdir(), 'hubless-soak-'))
const mirror = await startBenchMirror(join(root, 'mirror'))
const registry = mirror.registry
const load = spawn(process.execPath, [join(here, '..', 'faults', 'load.ts'), mirror.multiaddrs[0]!, String(RATE)], { stdio: ['ignore', 'pipe', 'inherit'] })
let published = 0
load.stdout.on('data', (c: Buffer) => { const m = /published (\d+)\s*$/.exec(c.toString()); if (m != null) published = Number(m[1]) })

const latencies: number[] = []
let querying = true
const queries = ['video', 'editor', 'soak', 'audio player', 'viewr', 'org.soak.App1', '']
const querier = (async () => {
  let i = 0
  while (querying) {
    const q = queries[i++ % queries.length]!
    const started = performance.now()
    const paths = [`/api/v1/apps?q=${encodeURIComponent(q)}`, `/api/v1/apps/org.soak.App${i % 1000}`, '/api/v1/status']
    for (const p of paths) {
      const res = await fetch(new URL(p, mirror.url)).catch(() => undefined)
      await res?.arrayBuffer()
    }
    latencies.push(performance.now() - started)
    if (i % 20 === 0) await (await fetch(new URL('/feed.json', mirror.url)).catch(() => undefined))?.arrayBuffer()
    await new Promise(resolve => setTimeout(resolve, 50))
  }
})()

const samples: Sample[] = []
const start = Date.now()
async function sample (): Promise<Sample> {
  const recent = latencies.splice(0)
  const s = { t: (Date.now() - start) / 1000, records: (await registry.status()).records, heap: await heap(), rss: process.memoryUsage().rss, handles: handles(), p50: percentile(recent, 50) }
  samples.push(s)
  console.log(`t=${s.t.toFixed(0)}s records=${s.records} published=${published} heap=${(s.heap / 2 ** 20).toFixed(1)}MiB rss=${(s.rss / 2 ** 20).toFixed(0)}MiB handles=${s.handles} query-p50=${s.p50.toFixed(1)}ms`)
  return s
}
await new Promise(resolve => setTimeout(resolve, WARMUP * 1000))
const base = await sample()
while (Date.now() - start < SECONDS * 1000) {
  await new Promise(resolve => setTimeout(resolve, 5000))
  await sample()
}
querying = false
await querier
load.kill('SIGTERM')
await new Promise(resolve => load.once('exit', resolve))
await new Promise(resolve => setTimeout(resolve, 1000))
const end = await sample()

// what the records themselves weigh: their wire bytes, from the log
let recordBytes = 0
for await (const r of registry.records()) recordBytes += r.bytes.byteLength + (r.signature?.byteLength ?? 0)
const perRecordBytes = recordBytes / Math.max(1, end.records)
const added = end.records - base.records
const heapGrowth = end.heap - base.heap
await mirror.stop()
await rm(root, { recursive: true, force: true })

report('soak', [
  { name: 'records added during the run', value: added, unit: 'records' },
  { name: 'heap growth per record added', value: heapGrowth / Math.max(1, added), unit: 'B', baseline: perRecordBytes, goal: 'a small multiple of the record itself (views, index)' },
  { name: 'heap at the end', value: end.heap / 2 ** 20, unit: 'MiB', baseline: base.heap / 2 ** 20 },
  { name: 'RSS at the end', value: end.rss / 2 ** 20, unit: 'MiB', baseline: base.rss / 2 ** 20 },
  { name: 'active handles at the end (load stopped)', value: end.handles, unit: 'handles', baseline: base.handles, goal: 'no more than the baseline' },
  { name: 'query round p50 at the end', value: samples.at(-2)?.p50 ?? end.p50, unit: 'ms', baseline: base.p50 }
], { seconds: SECONDS, rate: RATE, samples })
process.exit(0)
