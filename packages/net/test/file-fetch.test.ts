import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import * as raw from 'multiformats/codecs/raw'
import { fixedSizeChunker } from '../src/index.ts'
import { serveFiles } from './gateway-servers.ts'
import { createFixture, randomBytes } from './helpers.ts'
import type { FetchFileProgressEvents, FileSeed, HublessNode } from '../src/index.ts'
import type { FileServer } from './gateway-servers.ts'
import type { CID } from 'multiformats/cid'

const LEAF = 64 * 1024
const LEAVES = 32

/** Leaves that came from each source, DAG nodes left out */
function leafSources (events: FetchFileProgressEvents[]): Record<string, number> {
  const sources: Record<string, number> = {}
  for (const event of events) {
    if (event.type !== 'hubless:fetch:block' || event.detail.cid.code !== raw.code) continue
    sources[event.detail.source] = (sources[event.detail.source] ?? 0) + 1
  }
  return sources
}

describe('fetchFile: a file from a seed and byte ranges', () => {
  const fixture = createFixture()
  const servers: FileServer[] = []
  const data = randomBytes(LEAVES * LEAF, 9)
  const sha256 = createHash('sha256').update(data).digest('hex')
  let holder: HublessNode
  let cid: CID
  let dir: string
  let seed: FileSeed
  let mirror: FileServer

  const serve = async (misbehave?: Parameters<typeof serveFiles>[1]): Promise<FileServer> => {
    const server = await serveFiles(holder, misbehave)
    servers.push(server)
    return server
  }

  before(async () => {
    holder = await fixture.node()
    cid = await holder.content.add(data, { chunker: fixedSizeChunker(LEAF) })
    dir = await fixture.dir()
    // the installed version: the same but for leaves 3 and 4, 10, and the last
    const old = Uint8Array.from(data)
    for (const leaf of [3, 4, 10, 31]) old.fill(leaf, leaf * LEAF, leaf * LEAF + 100)
    seed = { path: join(dir, 'old'), chunker: fixedSizeChunker(LEAF), cuts: Array.from({ length: LEAVES }, (_, i) => (i + 1) * LEAF) }
    await writeFile(seed.path, old)
    mirror = await serve()
  })

  after(async () => {
    await Promise.allSettled(servers.map(async s => s.close()))
    await fixture.cleanup()
  })

  it('takes what the seed holds and the rest in one request of byte ranges', async () => {
    const fetcher = await fixture.node()
    const events: FetchFileProgressEvents[] = []
    const target = join(dir, 'new-1')
    const before = mirror.ranges.length
    const result = await fetcher.content.fetchFile(cid, target, { gateways: [mirror.url], seed, signal: AbortSignal.timeout(20_000), onProgress: e => { events.push(e) } })
    assert.deepEqual(await readFile(target), Buffer.from(data), 'the file, byte for byte')
    assert.equal(result.sha256, sha256)
    assert.equal(result.size, data.byteLength)
    assert.deepEqual(leafSources(events), { local: 28, [mirror.url]: 4 })
    assert.deepEqual(mirror.ranges.slice(before), [`bytes=${3 * LEAF}-${5 * LEAF - 1},${10 * LEAF}-${11 * LEAF - 1},${31 * LEAF}-${32 * LEAF - 1}`], 'one request, adjacent leaves in one range')
    assert.ok(events.some(e => e.type === 'hubless:fetch:seed'), 'reading the seed is reported')
    assert.ok(events.some(e => e.type === 'hubless:fetch:hash'), 'hashing the file is reported')
  })

  it('does not cut a seed whose own DAG it holds: what the seed lacks is asked for at once, and a leaf changed in place after the copy', async () => {
    const fetcher = await fixture.node()
    // installed as `cid`: the fetcher holds that DAG's nodes, not its leaves
    const installed = join(dir, 'installed')
    await fetcher.content.fetchFile(cid, installed, { gateways: [mirror.url], signal: AbortSignal.timeout(20_000) })
    // the user changed a byte of leaf 7 since; the next version changed leaves 5 and 20
    const bytes = await readFile(installed)
    bytes[7 * LEAF + 9] = bytes[7 * LEAF + 9]! ^ 0xff
    await writeFile(installed, bytes)
    const next = Uint8Array.from(data)
    for (const leaf of [5, 20]) next.fill(0xee, leaf * LEAF, leaf * LEAF + 50)
    const nextCid = await holder.content.add(next, { chunker: fixedSizeChunker(LEAF) })
    let cut = 0
    const seeded: FileSeed = { path: installed, root: cid, chunker: source => { cut++; return fixedSizeChunker(LEAF)(source) } }
    const events: FetchFileProgressEvents[] = []
    const before = mirror.ranges.length
    const result = await fetcher.content.fetchFile(nextCid, join(dir, 'next'), { gateways: [mirror.url], seed: seeded, signal: AbortSignal.timeout(20_000), onProgress: e => { events.push(e) } })
    assert.deepEqual(await readFile(join(dir, 'next')), Buffer.from(next), 'the file, byte for byte')
    assert.equal(cut, 0, 'the seed was not cut')
    assert.deepEqual(leafSources(events), { local: 29, [mirror.url]: 3 })
    assert.deepEqual(mirror.ranges.slice(before), [`bytes=${5 * LEAF}-${6 * LEAF - 1},${20 * LEAF}-${21 * LEAF - 1}`, `bytes=${7 * LEAF}-${8 * LEAF - 1}`], 'what the DAG says the seed lacks first, the changed leaf after the copy')
    assert.equal(result.sha256, createHash('sha256').update(next).digest('hex'))

    // a seed whose DAG is not held is cut, as before
    const other = await fixture.node()
    const again = await other.content.fetchFile(nextCid, join(dir, 'next-2'), { gateways: [mirror.url], seed: seeded, signal: AbortSignal.timeout(20_000) })
    assert.equal(again.sha256, result.sha256)
    assert.equal(cut, 1, 'cut once, by the node that does not hold its DAG')
  })

  it('works without a seed\'s cuts, for a file of one raw block, and stops at maxBytes before fetching any leaf', async () => {
    const fetcher = await fixture.node()
    const target = join(dir, 'new-2')
    const { cuts: _, ...uncut } = seed
    const result = await fetcher.content.fetchFile(cid, target, { gateways: [mirror.url], seed: uncut, signal: AbortSignal.timeout(20_000) })
    assert.equal(result.sha256, sha256)
    // a file of one leaf: its root is the raw leaf itself
    const small = data.subarray(0, 1000)
    const one = await holder.content.add(small, { chunker: fixedSizeChunker(LEAF) })
    assert.equal(one.code, raw.code)
    const single = await fetcher.content.fetchFile(one, join(dir, 'new-2b'), { gateways: [mirror.url], signal: AbortSignal.timeout(20_000) })
    assert.equal(single.size, 1000)
    assert.deepEqual(await readFile(join(dir, 'new-2b')), Buffer.from(small))
    const other = await fixture.node()
    const before = mirror.ranges.length
    await assert.rejects(other.content.fetchFile(cid, join(dir, 'new-3'), { gateways: [mirror.url], maxBytes: data.byteLength - 1, signal: AbortSignal.timeout(20_000) }), { name: 'ContentTooLargeError' })
    assert.equal(mirror.ranges.length, before, 'no range was asked for')
  })

  it('distrusts a mirror that sends a wrong byte in a range, and gets the leaves from the next one', async () => {
    const liar = await serve('flip-a-byte')
    const fetcher = await fixture.node()
    const events: FetchFileProgressEvents[] = []
    const result = await fetcher.content.fetchFile(cid, join(dir, 'new-4'), { gateways: [liar.url, mirror.url], seed, signal: AbortSignal.timeout(20_000), onProgress: e => { events.push(e) } })
    assert.equal(result.sha256, sha256)
    assert.ok(result.errors.some(e => e.name === 'GatewayVerificationError'), `expected a GatewayVerificationError in ${result.errors.map(e => e.name)}`)
    assert.equal(leafSources(events)[liar.url], undefined, 'no leaf from the liar')
    assert.equal(leafSources(events)[mirror.url], 4)
    assert.equal(liar.ranges.length, 1, 'the liar was asked once')
  })

  it('gets blocks one by one from a server that ignores Range, without reading its endless answer', async () => {
    const ignorer = await serve('ignore-ranges')
    const fetcher = await fixture.node()
    const events: FetchFileProgressEvents[] = []
    const result = await fetcher.content.fetchFile(cid, join(dir, 'new-5'), { gateways: [ignorer.url], seed, signal: AbortSignal.timeout(20_000), onProgress: e => { events.push(e) } })
    assert.equal(result.sha256, sha256)
    assert.ok(result.errors.some(e => e.name === 'RangesNotSupportedError'), `expected a RangesNotSupportedError in ${result.errors.map(e => e.name)}`)
    assert.equal(leafSources(events)[ignorer.url], 4)
    assert.equal(ignorer.ranges.length, 1, 'ranges were asked for once')
    assert.equal(ignorer.cutShort, 1, 'the endless answer was cut short by the client')
  })

  it('stops reading a multipart answer whose part head never ends, and uses the next mirror', async () => {
    const hostile = await serve('endless-part-head')
    const fetcher = await fixture.node()
    const events: FetchFileProgressEvents[] = []
    const result = await fetcher.content.fetchFile(cid, join(dir, 'new-6'), { gateways: [hostile.url, mirror.url], seed, signal: AbortSignal.timeout(20_000), onProgress: e => { events.push(e) } })
    assert.equal(result.sha256, sha256)
    assert.ok(result.errors.some(e => e.name === 'BadRangeAnswerError'), `expected a BadRangeAnswerError in ${result.errors.map(e => e.name)}`)
    assert.equal(hostile.cutShort, 1)
    assert.equal(leafSources(events)[mirror.url], 4, 'by ranges from the next mirror')
  })

  it('asks a server that answers only the first of several ranges for one range at a time', async () => {
    const terse = await serve('first-range-only')
    const fetcher = await fixture.node()
    const events: FetchFileProgressEvents[] = []
    const result = await fetcher.content.fetchFile(cid, join(dir, 'new-9'), { gateways: [terse.url], seed, signal: AbortSignal.timeout(20_000), onProgress: e => { events.push(e) } })
    assert.equal(result.sha256, sha256)
    assert.equal(leafSources(events)[terse.url], 4, 'every leaf by ranges')
    // the content-defined DAG of 32 leaves has a few nodes under its root
    const nodes = events.filter(e => e.type === 'hubless:fetch:block' && e.detail.cid.code !== raw.code).length
    assert.ok(nodes >= 1)
    assert.equal(terse.blockRequests, nodes, 'only the DAG\'s nodes came as blocks')
    assert.deepEqual(terse.ranges.map(r => r.split(',').length), [3, 1, 1], 'three ranges, then the two it left out one by one')
  })

  it('resumes from the part file an interrupted fetch left', async () => {
    const fetcher = await fixture.node()
    const target = join(dir, 'new-7')
    const stop = new AbortController()
    let fetched = 0
    await assert.rejects(fetcher.content.fetchFile(cid, target, {
      gateways: [mirror.url],
      signal: stop.signal,
      onProgress: e => {
        if (e.type === 'hubless:fetch:block' && e.detail.cid.code === raw.code && ++fetched === 10) stop.abort(new Error('interrupted'))
      }
    }), /interrupted/)
    const events: FetchFileProgressEvents[] = []
    const result = await fetcher.content.fetchFile(cid, target, { gateways: [mirror.url], signal: AbortSignal.timeout(20_000), onProgress: e => { events.push(e) } })
    assert.equal(result.sha256, sha256)
    const sources = leafSources(events)
    assert.ok((sources['local'] ?? 0) >= 5, `most leaves fetched before the interruption are reused: ${JSON.stringify(sources)}`)
    assert.equal((sources['local'] ?? 0) + (sources[mirror.url] ?? 0), LEAVES)
    await rm(target)
  })

  it('takes leaves from a connected peer without asking gateways', async () => {
    const fetcher = await fixture.node()
    await fetcher.dial(holder.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(10_000) })
    const liar = await serve('flip-a-byte')
    const events: FetchFileProgressEvents[] = []
    const result = await fetcher.content.fetchFile(cid, join(dir, 'new-8'), { gateways: [liar.url], seed, providerTimeout: 5000, signal: AbortSignal.timeout(20_000), onProgress: e => { events.push(e) } })
    assert.equal(result.sha256, sha256)
    assert.deepEqual(leafSources(events), { local: 28, peers: 4 })
    assert.equal(liar.requests, 0)
  })
})
