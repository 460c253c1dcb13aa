/**
 * Spam: `node --expose-gc scripts/bench/spam.ts [SPAM]` (default 50,000). A mirror holds an
 * honest registry (HONEST releases of honest apps by two trusted keys). Baseline, measured in this
 * run: a fresh peer catches up from the mirror, builds its catalog and searches for the honest
 * apps. Then SPAM valid records from throwaway keys (one key each) are appended — names that
 * imitate the honest ones, squatted honest app ids, junk apps — and the same is measured again:
 * a new fresh peer's catch-up (time until it holds every honest record, and the whole log),
 * catalog cold start, search latency, and whether the honest app still comes first (trusted-only
 * and plain search). Prints ratios against the baseline and writes bench-results/spam.json.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNode } from '@hubless/net'
import { createCatalog } from '@hubless/query'
import { buildReleaseRecord, createPublisherKey, createRegistry, signRecord } from '@hubless/registry'
import type { HublessNode } from '@hubless/net'
import type { Catalog } from '@hubless/query'
import type { PublisherKey, Registry, SignedRecord } from '@hubless/registry'
import { percentile, report } from './lib/report.ts'

const SPAM = Number(process.argv[2] ?? process.env.BENCH_SPAM ?? 50_000)
const HONEST = 300
const NAME = 'spam-registry'
const WORDS = ['Video', 'Editor', 'Audio', 'Player', 'Image', 'Viewer', 'Office', 'Terminal', 'Browser', 'Notes', 'Chat', 'Paint']

interface Peer { node: HublessNode, registry: Registry }
const root = await mkdtemp(join(tmpdir(), 'hubless-spam-'))
const open: Peer[] = []
async function start (name: string): Promise<Peer> {
  const node = await createNode({ directory: join(root, name), listen: ['/ip4/127.0.0.1/tcp/0'], pubsubHeartbeatInterval: 200 })
  const registry = await createRegistry({ node }, { name: NAME, announceInterval: 1_000 })
  const peer = { node, registry }
  open.push(peer)
  return peer
}
async function stop (peer: Peer): Promise<void> {
  open.splice(open.indexOf(peer), 1)
  await peer.registry.stop()
  await peer.node.stop()
}

function honestName (i: number): string { return `Honest ${WORDS[i % WORDS.length]} ${i}` }

function release (key: PublisherKey, appId: string, name: string, version: string): ReturnType<typeof buildReleaseRecord> {
  return buildReleaseRecord({
    appId, version, channel: 'release', arch: 'x86_64',
    content: { urls: [`https://example.org/${appId}-${version}.AppImage`] },
    app: { name, summary: `${name}: a ${WORDS[name.length % WORDS.length]!.toLowerCase()} for everyone`, categories: ['Utility'], keywords: [name.split(' ')[1]!.toLowerCase()] }
  }, { publisher: key.did })
}

interface Measure { catchUpHonestMs: number, catchUpAllMs: number, records: number, coldStartMs: number, searchP50: number, searchP99: number, trustedFirst: number, plainFirst: number, plainTop3: number }

async function measure (mirror: Peer, honestIds: string[], roots: string[], label: string): Promise<Measure> {
  const fresh = await start(`fresh-${label}`)
  try {
    const total = (await mirror.registry.status()).records
    const t = performance.now()
    await fresh.node.dial(mirror.node.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(10_000) })
    let catchUpHonestMs = 0
    const deadline = Date.now() + 30 * 60_000
    while (Date.now() < deadline) {
      if (catchUpHonestMs === 0) {
        let all = true
        for (const id of honestIds) if (!(await fresh.registry.has(id))) { all = false; break }
        if (all) catchUpHonestMs = performance.now() - t
      }
      if ((await fresh.registry.status()).records >= total) break
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    const catchUpAllMs = performance.now() - t
    if (catchUpHonestMs === 0) throw new Error(`${label}: the fresh peer never got every honest record`)
    const c0 = performance.now()
    const catalog: Catalog = await createCatalog({ source: fresh.registry }, { roots })
    catalog.search({ query: 'honest' })
    const coldStartMs = performance.now() - c0
    const times: number[] = []
    let trustedFirst = 0
    let plainFirst = 0
    let plainTop3 = 0
    for (let i = 0; i < HONEST; i += 3) {
      const want = `org.honest.App${i}`
      const q0 = performance.now()
      const trusted = catalog.search({ query: honestName(i), trustedOnly: true, limit: 10 })
      const plain = catalog.search({ query: honestName(i), limit: 10 })
      times.push((performance.now() - q0) / 2)
      if (trusted.hits[0]?.appId === want) trustedFirst++
      if (plain.hits[0]?.appId === want) plainFirst++
      if (plain.hits.slice(0, 3).some(h => h.appId === want)) plainTop3++
    }
    const n = Math.ceil(HONEST / 3)
    await catalog.stop()
    const m = { catchUpHonestMs, catchUpAllMs, records: total, coldStartMs, searchP50: percentile(times, 50), searchP99: percentile(times, 99), trustedFirst: trustedFirst / n, plainFirst: plainFirst / n, plainTop3: plainTop3 / n }
    console.log(`${label}: ${JSON.stringify(m)}`)
    return m
  } finally {
    await stop(fresh)
  }
}

try {
  const mirror = await start('mirror')
  const honestKeys = [createPublisherKey(), createPublisherKey()]
  const honestIds: string[] = []
  for (let i = 0; i < HONEST; i++) {
    const key = honestKeys[i % 2]!
    honestIds.push((await mirror.registry.publish(release(key, `org.honest.App${i}`, honestName(i), `1.${i}`), key)).id)
  }
  const roots = honestKeys.map(k => k.did)
  const base = await measure(mirror, honestIds, roots, 'baseline')

  // the spam: every record from a new key; a third imitate honest names, a third squat honest ids
  const t = performance.now()
  const batch: Array<Promise<SignedRecord>> = []
  for (let i = 0; i < SPAM; i++) {
    const key = createPublisherKey()
    const h = i % HONEST
    const kind = i % 3
    const appId = kind === 1 ? `org.honest.App${h}` : `net.spam${i}.App`
    const name = kind === 2 ? `Spam ${i}` : `${honestName(h)} Pro`
    batch.push(signRecord(release(key, appId, name, `99.${i}`), key))
    if (batch.length === 256 || i === SPAM - 1) {
      const signed = await Promise.all(batch.splice(0))
      for (const s of signed) await mirror.registry.append(s)
      if ((i + 1) % 5000 < 256) console.log(`spam: ${i + 1} of ${SPAM} appended (${((i + 1) / ((performance.now() - t) / 1000)).toFixed(0)}/s)`)
    }
  }
  const spamMs = performance.now() - t
  const after = await measure(mirror, honestIds, roots, 'with spam')

  report('spam', [
    { name: `spam appended (${SPAM} throwaway keys)`, value: SPAM / (spamMs / 1000), unit: 'records/s' },
    { name: 'fresh peer: time until every honest record', value: after.catchUpHonestMs, unit: 'ms', baseline: base.catchUpHonestMs },
    { name: 'fresh peer: time until the whole log', value: after.catchUpAllMs, unit: 'ms', baseline: base.catchUpAllMs },
    { name: 'catalog cold start (build + first search)', value: after.coldStartMs, unit: 'ms', baseline: base.coldStartMs },
    { name: 'search p50', value: after.searchP50, unit: 'ms', baseline: base.searchP50 },
    { name: 'search p99', value: after.searchP99, unit: 'ms', baseline: base.searchP99 },
    { name: 'trusted-only search: honest app first', value: after.trustedFirst, unit: 'share', baseline: base.trustedFirst, goal: '1.0' },
    { name: 'plain search: honest app first', value: after.plainFirst, unit: 'share', baseline: base.plainFirst },
    { name: 'plain search: honest app in top 3', value: after.plainTop3, unit: 'share', baseline: base.plainTop3 }
  ], { spam: SPAM, honest: HONEST, baseline: base, withSpam: after })
} finally {
  for (const p of [...open]) await stop(p).catch(() => {})
  await rm(root, { recursive: true, force: true })
}
process.exit(0)
