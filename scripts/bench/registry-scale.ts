/**
 * A registry that grows (issue 16): for 10,000, 100,000 and 1,000,000 records (BENCH_MAX caps
 * the sizes, default 100,000), each in processes of their own (a mirror, a fresh peer, a
 * restarted peer), on @hubless/net nodes over TCP on 127.0.0.1 with LevelDB on disk:
 *   - batched append: the mirror writes the records with `publishMany` (and until pinned)
 *   - fresh-peer catch-up rate and the fresh peer's peak RSS, and its peak anonymous RSS (less
 *     the file-backed pages: LevelDB's memory-mapped tables, which grow with the log)
 *   - the writer's RSS after the append (it holds its input too; after a garbage collection)
 *   - reopen + first query: a restarted peer opens the registry and answers `get(id)`, then an
 *     app's newest releases (`latest`); its RSS after both
 *   - the live set: when the fresh peer has every app's newest releases and the trust records
 *     (a neighbour's live set, before the history), against when it has the whole log
 *   - the cost per record: CPU of the catch-up and the fresh peer's peak RSS, per record, and
 *     either against its value at the smallest size (flat means a ratio near 1)
 * The records are a mix: 5,000 apps (fewer when small) on release, beta, nightly and continuous
 * channels, and endorsements by other keys, made and appended 10,000 at a time. Every process is a
 * mirror and runs with `hubless mirror`'s Node settings (BENCH_NODE_SETTINGS=node: Node's defaults),
 * and the fresh peer with its memory trim too (BENCH_NO_TRIM=1: without). The baseline is raw OrbitDB 4 at 10,000 records
 * (or BENCH_MAX), measured in the same run by scripts/bench/registry-sync.ts in a child process
 * (for reopening, its figure is reopen + list of every record).
 */
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { DAEMON_ENV, DAEMON_NODE_FLAGS } from '../../packages/cli/bin/runtime.js'
import { startMemoryTrim } from '../../packages/cli/src/daemon/memory-trim.ts'
import { createNode } from '../../packages/net/src/index.ts'
import { buildEndorseRecord, buildReleaseRecord, createRegistry, publisherKeyFromSecret } from '../../packages/registry/src/index.ts'
import type { UnsignedRecord } from '../../packages/registry/src/index.ts'
import { report } from './lib/report.ts'
import type { Figure } from './lib/report.ts'

const here = fileURLToPath(import.meta.url)
const root = join(import.meta.dirname, '..', '..')
const MAX = Number(process.env.BENCH_MAX ?? 100_000)
/** BENCH_SIZES (comma-separated) picks sizes, e.g. "1000000" alone; else 10k, 100k, 1M up to BENCH_MAX */
const SIZES = process.env.BENCH_SIZES != null ? process.env.BENCH_SIZES.split(',').map(Number) : [10_000, 100_000, 1_000_000].filter(n => n <= MAX)
if (SIZES.length === 0) SIZES.push(MAX)
// mirror-scale.ts writes to the registry a `hubless mirror` opens by default
const NAME = process.env.BENCH_SCALE_REGISTRY ?? 'bench-scale'
const TIMEOUT = 60 * 60_000
const CHANNELS = ['nightly', 'nightly', 'nightly', 'continuous', 'continuous', 'beta', 'release'] as const

const publisher = publisherKeyFromSecret(new Uint8Array(32).fill(11))
const endorsers = [12, 13, 14].map(b => publisherKeyFromSecret(new Uint8Array(32).fill(b)))

/** records `from` to `to` of `n`: releases of up to 5,000 apps on several channels, one endorsement of the publisher in 1,000 */
function recordMix (n: number, from: number, to: number): { releases: UnsignedRecord[], endorsements: Array<{ key: typeof publisher, record: UnsignedRecord }> } {
  const apps = Math.max(10, Math.min(5_000, Math.floor(n / 20)))
  const releases: UnsignedRecord[] = []
  const endorsements: Array<{ key: typeof publisher, record: UnsignedRecord }> = []
  const time = 1_767_225_600_000
  for (let i = from; i < to; i++) {
    if (i % 1_000 === 999) {
      const key = endorsers[i % endorsers.length]!
      endorsements.push({ key, record: buildEndorseRecord(publisher.did, { appIds: [`org.example.App${i % apps}`] }, { publisher: key.did, time: time + i }) })
      continue
    }
    const app = i % apps
    releases.push(buildReleaseRecord({
      appId: `org.example.App${app}`,
      version: `1.${Math.floor(i / apps)}.0`,
      channel: CHANNELS[Math.floor(i / apps) % CHANNELS.length]!,
      arch: 'x86_64',
      content: { urls: [`https://example.org/App${app}-${i}-x86_64.AppImage`] },
      app: { name: `App ${app}`, summary: 'an app of the scale bench' }
    }, { publisher: publisher.did, time: time + i }))
  }
  return { releases, endorsements }
}

/** records made and appended at a time (an import of a million records holds a batch, not all) */
const WRITE_BATCH = 10_000

async function startNode (directory: string) {
  return createNode({ directory: join(directory, 'node'), listen: ['/ip4/127.0.0.1/tcp/0'], pubsubHeartbeatInterval: 200 })
}

function peakRssMb (): number {
  return process.resourceUsage().maxRSS / 1024
}

/**
 * The largest anonymous RSS seen, sampled from /proc every 100 ms: RSS less file-backed pages, of
 * which LevelDB's memory-mapped table files are most (page cache the kernel takes back when it
 * needs it; a million records are ~2 GB of tables)
 */
function watchAnonymousRss (): { stop: () => number, heap: Record<string, number> } {
  let peak = 0
  // where anonymous memory goes: the peaks of V8's heap and of memory outside it (MB)
  const heap: Record<string, number> = { heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 }
  const sample = (): void => {
    try {
      const kb = Number(/RssAnon:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0)
      peak = Math.max(peak, kb / 1024)
    } catch {}
    const usage = process.memoryUsage() as unknown as Record<string, number>
    for (const k of Object.keys(heap)) heap[k] = Math.max(heap[k]!, Math.round(usage[k]! / 2 ** 20))
  }
  sample()
  const timer = setInterval(sample, 100)
  return { stop: () => { sample(); clearInterval(timer); return peak }, heap }
}

/** child: write `n` records, print the append rate and the address to dial, serve until told to stop */
async function mirrorChild (directory: string, n: number): Promise<void> {
  const node = await startNode(directory)
  const registry = await createRegistry({ node }, { name: NAME })
  let first: string | undefined
  let making = 0
  const started = performance.now()
  for (let from = 0; from < n; from += WRITE_BATCH) {
    const made = performance.now()
    const { releases, endorsements } = recordMix(n, from, Math.min(n, from + WRITE_BATCH))
    making += performance.now() - made
    const written = await registry.publishMany(releases, publisher)
    first ??= written[0]!.id
    for (const e of endorsements) await registry.publish(e.record, e.key)
  }
  // the time spent making the records is the importer's, not the append's
  const appended = performance.now() - making
  await registry.pinsSettled()
  const settled = performance.now() - making
  globalThis.gc?.()
  process.stdout.write(`${JSON.stringify({
    mirrorRssMb: process.memoryUsage().rss / 2 ** 20,
    multiaddr: node.libp2p.getMultiaddrs()[0]!.toString(),
    first,
    appendPerSec: n / ((appended - started) / 1000),
    settledPerSec: n / ((settled - started) / 1000),
    records: (await registry.status()).records
  })}\n`)
  for await (const line of createInterface({ input: process.stdin })) if (line === 'stop') break
  process.stdin.destroy()
  await registry.stop()
  await node.stop()
}

/** child: a fresh peer dials the mirror and takes in `n` records */
async function freshChild (directory: string, multiaddr: string, n: number): Promise<void> {
  const node = await startNode(directory)
  await node.dial(multiaddr, { signal: AbortSignal.timeout(10_000) })
  const rssBeforeMb = process.memoryUsage().rss / 2 ** 20
  const cpu = process.cpuUsage()
  const started = performance.now()
  const anonymous = watchAnonymousRss()
  // as in a real `hubless mirror` or `hubless daemon`, which a fresh peer is (BENCH_NO_TRIM=1: without)
  const trim = process.env.BENCH_NO_TRIM === '1' ? undefined : startMemoryTrim()
  const registry = await createRegistry({ node }, { name: NAME })
  // the live set (every app's newest releases and the trust records) arrives before the history
  let live = { ms: -1, records: 0 }
  registry.addEventListener('live', e => { live = { ms: performance.now() - started, records: e.detail.records } })
  const deadline = Date.now() + TIMEOUT
  while ((await registry.status()).records < n) {
    if (Date.now() > deadline) throw new Error('the fresh peer did not catch up')
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  const ms = performance.now() - started
  const used = process.cpuUsage(cpu)
  await registry.pinsSettled()
  const peak = peakRssMb()
  const peakAnonymous = anonymous.stop()
  trim?.stop()
  process.stdout.write(`${JSON.stringify({ liveMs: live.ms, liveRecords: live.records, catchUpPerSec: n / (ms / 1000), catchUpMs: ms, catchUpCpuUs: (used.user + used.system) / n, peakRssMb: peak, peakAnonymousMb: peakAnonymous, peakHeapMb: anonymous.heap, peakKbPerRecord: (peak - rssBeforeMb) * 1024 / n })}\n`)
  await registry.stop()
  await node.stop()
}

/** child: a restarted peer opens its registry and answers one query */
async function reopenChild (directory: string, id: string): Promise<void> {
  const node = await startNode(directory)
  const started = performance.now()
  const registry = await createRegistry({ node }, { name: NAME })
  const found = await registry.get(id)
  const ms = performance.now() - started
  if (found == null || found.record.kind !== 'release') throw new Error(`the reopened registry lacks ${id}`)
  // a second question: the app's newest releases, a range of the index
  const asked = performance.now()
  let latest = 0
  for await (const _ of registry.latest({ appId: found.record.appId })) latest++
  const latestMs = performance.now() - asked
  globalThis.gc?.()
  process.stdout.write(`${JSON.stringify({ reopenQueryMs: ms, latestMs, latest, rssMb: process.memoryUsage().rss / 2 ** 20, peakRssMb: peakRssMb() })}\n`)
  await registry.stop()
  await node.stop()
}

/**
 * Every peer here is a mirror (it takes in and keeps the whole log): it runs with the Node flags and
 * environment `hubless mirror` starts with (packages/cli/bin/runtime.js); BENCH_NODE_SETTINGS=node
 * runs them with Node's defaults instead, and BENCH_NODE_FLAGS (space-separated) adds flags to try
 */
const NODE_FLAGS = [...(process.env.BENCH_NODE_SETTINGS === 'node' ? [] : DAEMON_NODE_FLAGS), ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean)]
const NODE_ENV = { ...process.env, ...(process.env.BENCH_NODE_SETTINGS === 'node' ? {} : DAEMON_ENV) }

function child (args: string[]): { lines: AsyncIterator<string>, proc: ReturnType<typeof spawn> } {
  const proc = spawn(process.execPath, ['--expose-gc', ...NODE_FLAGS, here, ...args], { stdio: ['pipe', 'pipe', 'inherit'], env: NODE_ENV })
  return { proc, lines: createInterface({ input: proc.stdout! })[Symbol.asyncIterator]() }
}

function runChild (args: string[]): Record<string, number> {
  const result = spawnSync(process.execPath, ['--expose-gc', ...NODE_FLAGS, here, ...args], { encoding: 'utf8', timeout: TIMEOUT, stdio: ['ignore', 'pipe', 'inherit'], env: NODE_ENV, maxBuffer: 16 * 2 ** 20 })
  if (result.status !== 0) throw new Error(`${args[0]} exited with ${result.status}`)
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, number>
}

async function measure (n: number, dirs: string[]) {
  const mirrorDir = await mkdtemp(join(tmpdir(), 'hubless-bench-scale-mirror-'))
  const freshDir = await mkdtemp(join(tmpdir(), 'hubless-bench-scale-fresh-'))
  dirs.push(mirrorDir, freshDir)
  const mirror = child(['--mirror', mirrorDir, String(n)])
  try {
    const line = await mirror.lines.next()
    if (line.done === true) throw new Error('the mirror process exited')
    const written = JSON.parse(line.value) as { multiaddr: string, first: string, appendPerSec: number, settledPerSec: number, records: number, mirrorRssMb: number }
    console.log(`${n}: appended at ${written.appendPerSec.toFixed(0)}/s (${written.settledPerSec.toFixed(0)}/s until pinned), ${written.records} records, writer RSS ${written.mirrorRssMb.toFixed(0)} MB`)
    const fresh = runChild(['--fresh', freshDir, written.multiaddr, String(written.records)])
    console.log(`${n}: fresh peer showed the live set (${fresh.liveRecords} records) after ${fresh.liveMs!.toFixed(0)} ms, the whole log after ${fresh.catchUpMs!.toFixed(0)} ms`)
    console.log(`${n}: fresh peer caught up at ${fresh.catchUpPerSec!.toFixed(0)}/s (${fresh.catchUpCpuUs!.toFixed(0)} µs CPU a record), peak RSS ${fresh.peakRssMb!.toFixed(0)} MB (anonymous ${fresh.peakAnonymousMb!.toFixed(0)} MB; peaks of ${JSON.stringify(fresh.peakHeapMb)} MB)`)
    const reopened = runChild(['--reopen', freshDir, written.first])
    console.log(`${n}: reopen + first query ${reopened.reopenQueryMs!.toFixed(0)} ms, then latest of an app ${reopened.latestMs!.toFixed(1)} ms (${reopened.latest} records), RSS ${reopened.rssMb!.toFixed(0)} MB`)
    return {
      ...written,
      catchUpPerSec: fresh.catchUpPerSec!,
      catchUpCpuUs: fresh.catchUpCpuUs!,
      catchUpMs: fresh.catchUpMs!,
      liveMs: fresh.liveMs!,
      liveRecords: fresh.liveRecords!,
      peakRssMb: fresh.peakRssMb!,
      peakAnonymousMb: fresh.peakAnonymousMb!,
      peakKbPerRecord: fresh.peakKbPerRecord!,
      reopenQueryMs: reopened.reopenQueryMs!,
      latestMs: reopened.latestMs!,
      reopenRssMb: reopened.rssMb!
    }
  } finally {
    mirror.proc.stdin!.write('stop\n')
    await once(mirror.proc, 'exit')
  }
}

if (process.argv[2] === '--mirror') {
  await mirrorChild(process.argv[3]!, Number(process.argv[4]))
} else if (process.argv[2] === '--fresh') {
  await freshChild(process.argv[3]!, process.argv[4]!, Number(process.argv[5]))
} else if (process.argv[2] === '--reopen') {
  await reopenChild(process.argv[3]!, process.argv[4]!)
} else {
  const dirs: string[] = []
  try {
    // the baseline: raw OrbitDB at 10,000 (or fewer), by the sync bench, in this run
    const baseN = Math.min(10_000, ...SIZES)
    console.log(`raw OrbitDB at ${baseN} (scripts/bench/registry-sync.ts)`)
    const sync = spawnSync(process.execPath, ['--expose-gc', join(import.meta.dirname, 'registry-sync.ts')], { env: { ...process.env, BENCH_RECORDS: String(baseN), BENCH_HOPS: '5' }, stdio: ['ignore', 'inherit', 'inherit'], timeout: TIMEOUT })
    if (sync.status !== 0) throw new Error('the raw OrbitDB baseline failed')
    const raw = (JSON.parse(await readFile(join(root, 'bench-results', 'registry-sync.json'), 'utf8')) as { raw: { writePerSec: number, catchUpPerSec: number, catchUpCpuUs: number, reopenListMs: number, rssMb: number } }).raw
    const figures: Figure[] = []
    const results: Record<string, unknown> = {}
    let smallest: Awaited<ReturnType<typeof measure>> | undefined
    for (const n of SIZES) {
      const r = await measure(n, dirs)
      smallest ??= r
      results[n] = r
      figures.push(
        { name: `${n}: fresh-peer catch-up`, value: r.catchUpPerSec, unit: 'records/s', baseline: raw.catchUpPerSec, goal: '>= 8,000/s, flat from 10k' },
        // flat cost per record: the rate at this size against the smallest size of this run
        ...(smallest === r ? [] : [{ name: `${n}: catch-up rate against ${SIZES[0]}`, value: r.catchUpPerSec, unit: 'records/s', baseline: smallest.catchUpPerSec, goal: 'ratio ~1 (flat)' }]),
        // useful before it holds the history: every app's newest releases, the trust records and yanks (against the whole log, same run)
        { name: `${n}: fresh peer shows the live set (${r.liveRecords} records)`, value: r.liveMs, unit: 'ms', baseline: r.catchUpMs },
        { name: `${n}: catch-up CPU per record`, value: r.catchUpCpuUs, unit: 'µs', baseline: raw.catchUpCpuUs },
        { name: `${n}: catch-up CPU per record against ${SIZES[0]}`, value: r.catchUpCpuUs, unit: 'µs', baseline: smallest.catchUpCpuUs, goal: 'flat (ratio ~1)' },
        // the baseline: raw OrbitDB's RSS holding its records (its fresh peer's peak is not measured)
        { name: `${n}: fresh peer peak RSS`, value: r.peakRssMb, unit: 'MB', baseline: raw.rssMb, goal: '<= 500 MB' },
        // the same less file-backed pages (LevelDB's mapped tables): the memory the process holds
        { name: `${n}: fresh peer peak anonymous RSS`, value: r.peakAnonymousMb, unit: 'MB', baseline: raw.rssMb, goal: '<= 500 MB' },
        { name: `${n}: fresh peer peak RSS per record against ${SIZES[0]}`, value: r.peakKbPerRecord, unit: 'KB', baseline: smallest.peakKbPerRecord, goal: 'flat or falling' },
        { name: `${n}: writer RSS after the batched append`, value: r.mirrorRssMb, unit: 'MB', baseline: raw.rssMb },
        { name: `${n}: reopen + first query`, value: r.reopenQueryMs, unit: 'ms', baseline: raw.reopenListMs, goal: '<= 300 ms' },
        { name: `${n}: then an app's newest releases`, value: r.latestMs, unit: 'ms' },
        { name: `${n}: mirror RSS after reopening, holding all`, value: r.reopenRssMb, unit: 'MB', baseline: raw.rssMb, goal: '<= 300 MB' },
        { name: `${n}: batched append`, value: r.appendPerSec, unit: 'records/s', baseline: raw.writePerSec, goal: '>= 2,000/s' },
        { name: `${n}: batched append until pinned`, value: r.settledPerSec, unit: 'records/s', baseline: raw.writePerSec }
      )
    }
    report('registry-scale', figures, { sizes: SIZES, raw, results })
  } finally {
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  }
}
