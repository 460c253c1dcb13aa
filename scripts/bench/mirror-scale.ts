/**
 * A real `hubless mirror` holding many records (issue 16: "a mirror holding them runs in <= 300 MB
 * RSS, and reopens and answers its first query in <= 300 ms"): registry-scale.ts's writer appends
 * BENCH_MIRROR_RECORDS (default 100,000) of its records to the default registry; a mirror from a
 * fresh data dir (`--archive none`) catches up from it over 127.0.0.1, until its API counts every
 * record and its catalog every app; then it is stopped and started again, and asked a search.
 *
 * Baseline, in the same run: the writer, the registry alone holding the same records (its RSS,
 * and the time its append took). Prints the mirror's catch-up, peak and settled RSS of its
 * process tree (with PSS and the anonymous part), again once its memory trim has looked, and
 * the time from its restart to the first answered search, against a restart from the sources
 * instead of the one-file bundle (with the memory after the restart, and after the trim); then
 * the whole record feed an app store's HTTP source reads, with the mirror's peak RSS while it
 * serves it, and the live set it reads first (or alone).
 *
 * Run: node scripts/bench/mirror-scale.ts (or pnpm bench mirror-scale); BENCH_MIRROR_KEEP=DIR keeps
 * the mirror's data dir (in the same file system as the temp dir)
 */
import { execFileSync, spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdtemp, readFile, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { report } from './lib/report.ts'
import type { ChildProcess } from 'node:child_process'

const N = Number(process.env.BENCH_MIRROR_RECORDS ?? 100_000)
// registry-scale.ts's record mix: up to 5,000 apps, of which 5 get only endorsements in the first rounds
const APPS = Math.max(10, Math.min(5_000, Math.floor(N / 20)))
const TIMEOUT = 30 * 60_000
const bin = join(import.meta.dirname, '..', '..', 'packages', 'cli', 'bin', 'hubless.js')
const env = { ...process.env }
delete env.DEBUG
delete env.HUBLESS_DATA_DIR
// BENCH_MIRROR_DEBUG=NAMESPACES: the mirror's debug log (e.g. hubless:cli:memory, its trims), in mirror-stderr.log of bench-results/
const debug = process.env.BENCH_MIRROR_DEBUG
if (debug != null) env.DEBUG = debug

/** lines of a child's stdout, one at a time */
function lines (child: ChildProcess): () => Promise<string> {
  const it = createInterface({ input: child.stdout! })[Symbol.asyncIterator]()
  return async () => {
    const next = await it.next()
    if (next.done === true) throw new Error('the child ended before its line')
    return next.value
  }
}

/**
 * Memory of a process and its children (the mirror hands over to a child with its Node settings),
 * in MB: RSS summed (the node binary's pages, which both map, counted twice), PSS (shared pages
 * split between the processes that map them) and the anonymous part (less LevelDB's memory-mapped
 * tables and the binary)
 */
async function memoryTree (pid: number): Promise<{ rss: number, pss: number, anonymous: number }> {
  const children = (p: number): number[] => {
    try { return execFileSync('pgrep', ['-P', String(p)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number) } catch { return [] }
  }
  const total = { rss: 0, pss: 0, anonymous: 0 }
  for (const p of [pid, ...children(pid), ...children(pid).flatMap(children)]) {
    try {
      const rollup = await readFile(`/proc/${p}/smaps_rollup`, 'utf8')
      const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(rollup)?.[1] ?? 0) / 1024
      total.rss += field('Rss')
      total.pss += field('Pss')
      total.anonymous += field('Anonymous')
    } catch { /* gone */ }
  }
  return total
}

async function rssTree (pid: number): Promise<number> {
  return (await memoryTree(pid)).rss
}

/** what the bench reads of `/api/v1/status` and `/api/v1/apps` */
interface Answer { registry?: { records?: number }, apps?: number, total?: number }

async function getJson (url: string): Promise<Answer> {
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) })
  if (!res.ok) throw new Error(`${url}: ${res.status}`)
  return await res.json() as Answer
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

async function stop (child: ChildProcess): Promise<void> {
  if (child.exitCode != null || child.signalCode != null) return
  const exited = new Promise(resolve => child.once('exit', resolve))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  await exited
  clearTimeout(timer)
}

/** GET a feed of lines to its end: the time it took, its bytes and lines */
async function readLines (url: string): Promise<{ ms: number, bytes: number, lines: number }> {
  const started = performance.now()
  const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT) })
  if (!res.ok) throw new Error(`${url} answered ${res.status}`)
  let bytes = 0
  let lines = 0
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.byteLength
    for (const byte of chunk) if (byte === 10) lines++
  }
  return { ms: performance.now() - started, bytes, lines }
}

/**
 * What an app store's HTTP source reads of a mirror (`/api/v1/records`, all of it, then the tail
 * a poll reads): time, size, the mirror's peak RSS meanwhile and its slowest health check
 */
async function readFeed (api: string, pid: number): Promise<{ ms: number, bytes: number, lines: number, peakRss: number, slowestHealth: number, tailMs: number }> {
  let peakRss = 0
  let slowestHealth = 0
  let reading = true
  const watch = (async () => {
    while (reading) {
      peakRss = Math.max(peakRss, await rssTree(pid))
      const asked = performance.now()
      await fetch(`${api}/healthz`, { signal: AbortSignal.timeout(30_000) }).then(async res => res.arrayBuffer()).catch(() => {})
      slowestHealth = Math.max(slowestHealth, performance.now() - asked)
      await sleep(100)
    }
  })()
  const { ms, bytes, lines } = await readLines(`${api}/api/v1/records`)
  reading = false
  await watch
  const tailStarted = performance.now()
  await (await fetch(`${api}/api/v1/records?after=${N - 100}`, { signal: AbortSignal.timeout(TIMEOUT) })).arrayBuffer()
  return { ms, bytes, lines, peakRss, slowestHealth, tailMs: performance.now() - tailStarted }
}

const writerDir = await mkdtemp(join(tmpdir(), 'bench-mirror-writer-'))
const mirrorDir = await mkdtemp(join(tmpdir(), 'bench-mirror-'))
const children: ChildProcess[] = []
const deadline = Date.now() + TIMEOUT
try {
  const writer = spawn(process.execPath, ['--expose-gc', join(import.meta.dirname, 'registry-scale.ts'), '--mirror', writerDir, String(N)], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, BENCH_SCALE_REGISTRY: 'hubless' } })
  children.push(writer)
  const written = JSON.parse(await lines(writer)()) as { multiaddr: string, appendPerSec: number, mirrorRssMb: number }
  console.log(`writer: ${N} records appended at ${written.appendPerSec.toFixed(0)}/s, RSS ${written.mirrorRssMb.toFixed(0)} MB`)
  execFileSync(process.execPath, [bin, '--data-dir', mirrorDir, '--json', 'init'], { env, stdio: 'ignore' })
  const startMirror = async (extraEnv: Record<string, string> = {}): Promise<{ child: ChildProcess, api: string }> => {
    const child = spawn(process.execPath, [bin, '--data-dir', mirrorDir, '--json', 'mirror', '--archive', 'none', '--http', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0', '--peer', written.multiaddr], { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', debug == null ? 'ignore' : 'pipe'] })
    if (debug != null) child.stderr!.pipe(createWriteStream(join(import.meta.dirname, '..', '..', 'bench-results', 'mirror-stderr.log'), { flags: 'a' }))
    children.push(child)
    return { child, api: (JSON.parse(await lines(child)()) as { api: string }).api }
  }
  const started = performance.now()
  const first = await startMirror()
  let peak = 0
  let records = 0
  let apps = 0
  let caughtUp = 0
  let appsShown = 0
  while (apps < APPS - 5 || records < N) {
    if (Date.now() > deadline) throw new Error(`the mirror had ${records} records and ${apps} apps after ${TIMEOUT} ms`)
    await sleep(500)
    peak = Math.max(peak, await rssTree(first.child.pid!))
    const status = await getJson(`${first.api}/api/v1/status`).catch(() => undefined)
    records = status?.registry?.records ?? records
    apps = typeof status?.apps === 'number' ? status.apps : apps
    if (records >= N && caughtUp === 0) caughtUp = performance.now() - started
    // every app's newest releases come with the live set, before the history
    if (apps >= APPS - 5 && appsShown === 0) appsShown = performance.now() - started
  }
  const shown = performance.now() - started
  await sleep(5_000)
  const settled = await memoryTree(first.child.pid!)
  // the mirror's memory trim looks every 30 s (packages/cli/src/daemon/memory-trim.ts)
  await sleep(35_000)
  const trimmed = await memoryTree(first.child.pid!)
  await stop(first.child)

  /** a restart, until the mirror answers a search; the mirror is left running */
  const restart = async (extraEnv?: Record<string, string>): Promise<{ mirror: Awaited<ReturnType<typeof startMirror>>, ms: number }> => {
    const restarted = performance.now()
    const mirror = await startMirror(extraEnv)
    for (;;) {
      if (Date.now() > deadline) throw new Error('the restarted mirror answered no search')
      const answer = await getJson(`${mirror.api}/api/v1/apps?q=App%2042`).catch(() => undefined)
      if ((answer?.total ?? 0) > 0) return { mirror, ms: performance.now() - restarted }
      await sleep(20)
    }
  }
  // the baseline: a restart from the sources, not the one-file bundle (packages/cli/bin/bundle.js)
  const fromSources = await restart({ HUBLESS_BUNDLE: '0' })
  await stop(fromSources.mirror.child)
  const { mirror: second, ms: firstQuery } = await restart()
  await sleep(3_000)
  const reopened = await memoryTree(second.child.pid!)
  await sleep(32_000)
  const reopenedTrimmed = await memoryTree(second.child.pid!)
  // what an HTTP source reads first (and alone, with `history: false`): the live set
  const live = await readLines(`${second.api}/api/v1/records/live`)
  const feed = await readFeed(second.api, second.child.pid!)
  await stop(second.child)
  report('mirror-scale', [
    { name: `${N}: mirror catch-up (registry)`, value: N / (caughtUp / 1000), unit: 'records/s', baseline: written.appendPerSec },
    { name: `${N}: mirror's catalog shows every app (the live set), against the whole log`, value: appsShown / 1000, unit: 's', baseline: caughtUp / 1000 },
    { name: `${N}: mirror catch-up until it holds every record and shows every app`, value: shown / 1000, unit: 's' },
    { name: `${N}: mirror peak RSS while catching up`, value: peak, unit: 'MB', baseline: written.mirrorRssMb },
    { name: `${N}: mirror RSS 5 s after catching up`, value: settled.rss, unit: 'MB', baseline: written.mirrorRssMb, goal: '<= 300 MB (at 1,000,000)' },
    { name: `${N}:   its PSS`, value: settled.pss, unit: 'MB' },
    { name: `${N}:   its anonymous memory`, value: settled.anonymous, unit: 'MB' },
    { name: `${N}: mirror RSS 40 s after catching up (after its memory trim)`, value: trimmed.rss, unit: 'MB', baseline: written.mirrorRssMb, goal: '<= 300 MB (at 1,000,000)' },
    { name: `${N}:   its anonymous memory`, value: trimmed.anonymous, unit: 'MB' },
    { name: `${N}: restart to first answered search (against from the sources)`, value: firstQuery, unit: 'ms', baseline: fromSources.ms, goal: '<= 300 ms (at 1,000,000)' },
    { name: `${N}: mirror RSS after the restart`, value: reopened.rss, unit: 'MB', baseline: written.mirrorRssMb, goal: '<= 300 MB (at 1,000,000)' },
    { name: `${N}:   its PSS`, value: reopened.pss, unit: 'MB' },
    { name: `${N}:   its anonymous memory`, value: reopened.anonymous, unit: 'MB' },
    { name: `${N}: mirror RSS 35 s after the restart (after its memory trim)`, value: reopenedTrimmed.rss, unit: 'MB', baseline: written.mirrorRssMb, goal: '<= 300 MB (at 1,000,000)' },
    { name: `${N}:   its PSS`, value: reopenedTrimmed.pss, unit: 'MB' },
    { name: `${N}:   its anonymous memory`, value: reopenedTrimmed.anonymous, unit: 'MB' },
    { name: `${N}: the whole record feed (/api/v1/records, ${(feed.bytes / 1e6).toFixed(0)} MB, ${feed.lines} lines)`, value: feed.ms, unit: 'ms' },
    { name: `${N}:   mirror peak RSS while serving it`, value: feed.peakRss, unit: 'MB', baseline: reopened.rss },
    { name: `${N}:   slowest /healthz meanwhile`, value: feed.slowestHealth, unit: 'ms' },
    { name: `${N}: the feed's last 100 lines (?after=${N - 100})`, value: feed.tailMs, unit: 'ms' },
    { name: `${N}: the live set (/api/v1/records/live, ${(live.bytes / 1e6).toFixed(1)} MB, ${live.lines} lines), against the whole feed`, value: live.ms, unit: 'ms', baseline: feed.ms }
  ])
  writer.stdin!.write('stop\n')
} finally {
  for (const child of children) await stop(child)
  await rm(writerDir, { recursive: true, force: true })
  // BENCH_MIRROR_KEEP=DIR keeps the mirror's data dir there, to study its restarts
  const keep = process.env.BENCH_MIRROR_KEEP
  if (keep != null) await rename(mirrorDir, keep)
  else await rm(mirrorDir, { recursive: true, force: true })
}
