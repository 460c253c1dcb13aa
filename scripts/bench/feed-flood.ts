/**
 * Feed flood: `node --expose-gc scripts/bench/feed-flood.ts [CLIENTS] [SECONDS]` (default 10
 * clients, 10 s). A mirror seeded with the AppImageHub catalog the project ships (~2,000 apps)
 * serves on 127.0.0.1. Baseline, measured in this run: `/healthz` latency (p50, p99) with nothing
 * else going on. Then CLIENTS clients, in a worker thread so that their own work does not load the
 * server's event loop, each fetch `/feed.json` in a loop (bounded by SECONDS and a request count)
 * while `/healthz` is timed again. Prints the flood's figures as ratios against the idle ones and
 * the feed requests answered (200, 503), and writes bench-results/feed-flood.json.
 * Goal: `/healthz` p99 under 100 ms during the flood.
 */
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { get } from './lib/http-get.ts'
import { EMBEDDED_CATALOG, startBenchMirror } from './lib/mirror-node.ts'
import { percentile, report } from './lib/report.ts'

const CLIENTS = Number(process.argv[2] ?? process.env.BENCH_FEED_CLIENTS ?? 10)
const SECONDS = Number(process.argv[3] ?? process.env.BENCH_FEED_SECONDS ?? 10)
const MAX_FEED_REQUESTS = 20_000
const HEALTH_PROBES = 300

async function probeHealth (base: string, count: number): Promise<number[]> {
  const samples: number[] = []
  for (let i = 0; i < count; i++) {
    const start = performance.now()
    const answer = await get(`${base}/healthz`)
    samples.push(performance.now() - start)
    if (answer.status !== 200) throw new Error(`/healthz answered ${answer.status}`)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
  return samples
}

const dir = await mkdtemp(join(tmpdir(), 'hubless-feed-flood-'))
const mirror = await startBenchMirror(join(dir, 'mirror'), { seed: EMBEDDED_CATALOG })
try {
  const base = mirror.url
  const apps = mirror.catalog.size
  const first = performance.now()
  const feed = await get(`${base}/feed.json`)
  const firstFeedMs = performance.now() - first
  console.log(`mirror at ${base} with ${apps} apps; first /feed.json ${feed.bytes} bytes in ${firstFeedMs.toFixed(0)} ms`)

  const idle = await probeHealth(base, HEALTH_PROBES)

  const flood = new Worker(new URL('./lib/flood-worker.ts', import.meta.url), {
    workerData: { url: `${base}/feed.json`, clients: CLIENTS, until: Date.now() + SECONDS * 1000, max: MAX_FEED_REQUESTS, headers: { 'accept-encoding': 'gzip, br' } }
  })
  const finished = once(flood, 'message') as Promise<[{ statuses: Record<string, number>, times: number[] }]>
  // let the flood reach its stride before probing
  await new Promise(resolve => setTimeout(resolve, 500))
  const flooded = await probeHealth(base, Math.min(HEALTH_PROBES, Math.max(20, Math.floor((SECONDS - 1) * 1000 / 15))))
  const [{ statuses, times: feedTimes }] = await finished
  await flood.terminate()
  const served = feedTimes.length
  console.log(`feed requests during the flood: ${JSON.stringify(statuses)} (${(served / SECONDS).toFixed(1)} full answers/s)`)

  report('feed-flood', [
    { name: '/healthz p50, idle', value: percentile(idle, 50), unit: 'ms' },
    { name: '/healthz p99, idle', value: percentile(idle, 99), unit: 'ms' },
    { name: `/healthz p50, ${CLIENTS} /feed.json clients`, value: percentile(flooded, 50), unit: 'ms', baseline: percentile(idle, 50) },
    { name: `/healthz p99, ${CLIENTS} /feed.json clients`, value: percentile(flooded, 99), unit: 'ms', baseline: percentile(idle, 99), goal: '< 100 ms' },
    { name: '/feed.json p50 under the flood (200s)', value: served === 0 ? Number.NaN : percentile(feedTimes, 50), unit: 'ms', baseline: firstFeedMs },
    { name: '/feed.json answers/s under the flood (200s)', value: served / SECONDS, unit: '/s' }
  ], { apps, clients: CLIENTS, seconds: SECONDS, feedBytes: feed.bytes, statuses })
} finally {
  await mirror.stop()
  await rm(dir, { recursive: true, force: true })
}
