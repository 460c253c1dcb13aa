/// <reference path="../src/orbitdb.d.ts" />
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { createOrbitDB } from '@orbitdb/core'
import { decode } from '@ipld/dag-cbor'
import { base58btc } from 'multiformats/bases/base58'
import { concat } from 'uint8arrays/concat'
import { CID } from 'multiformats/cid'
import { ACCESS_CONTROLLER_ADDRESS, ACCESS_CONTROLLER_TYPE, createPublisherKey } from '../src/index.ts'
import { decodeEntry, fetchSnapshot, snapshotProtocol } from '../src/log/snapshot.ts'
import type { Stream } from '@libp2p/interface'
import type { AccessControllerFactory, OrbitDB } from '@orbitdb/core'
import { releaseRecord } from './fixtures.ts'
import { connect, forgetPinsChecked, ids, Peers, waitForRecords } from './peers.ts'

const RECORDS = 120
const init = { name: 'test-registry', snapshotThreshold: 16 }

/** the pinned OrbitDB log entries of a peer (dag-cbor blocks with an entry's fields), as base58btc hashes */
/** pinned log entries, or pinned writer identities */
async function pinnedEntries (peer: Awaited<ReturnType<Peers['start']>>, kind: 'entries' | 'identities' = 'entries'): Promise<string[]> {
  const hashes: string[] = []
  for await (const pin of peer.node.helia.pins.ls()) {
    const bytes = await toBuffer(peer.node.helia.blockstore.get(pin.cid))
    const value = decode<Record<string, unknown>>(bytes)
    if (value == null || typeof value !== 'object') continue
    const entry = 'clock' in value && 'payload' in value && 'next' in value
    const identity = 'publicKey' in value && 'signatures' in value
    if (kind === 'entries' ? entry : identity) hashes.push(pin.cid.toString(base58btc))
  }
  return hashes
}

async function toBuffer (source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  for await (const chunk of source) chunks.push(chunk)
  return concat(chunks)
}

describe('snapshot catch-up', () => {
  const peers = new Peers()
  let attackerOrbit: OrbitDB | undefined
  after(async () => {
    await attackerOrbit?.stop().catch(() => {})
    await peers.cleanup()
  })

  it('a fresh peer far behind takes a snapshot in bulk and ends with the same log', async () => {
    const mirror = await peers.start(undefined, init)
    const key = createPublisherKey()
    const published = []
    for (let i = 0; i < RECORDS; i++) published.push(await mirror.registry.publish(releaseRecord(key, {}, i), key))

    const freshDir = await peers.dir()
    let fresh = await peers.start(freshDir, init)
    let events = 0
    fresh.registry.addEventListener('record', () => { events++ })
    await connect(fresh, mirror)
    await waitForRecords(fresh.registry, published)
    assert.equal(events, RECORDS, 'one record event per record')
    assert.deepEqual((await fresh.registry.status()).heads, (await mirror.registry.status()).heads, 'the same heads as the mirror')

    // the bulk-written log is an ordinary OrbitDB log: it reopens, takes writes, and replicates them
    await peers.stop(fresh)
    fresh = await peers.start(freshDir, init)
    assert.deepEqual(await ids(fresh.registry), published.map(p => p.id).sort())
    await connect(fresh, mirror)
    const next = await fresh.registry.publish(releaseRecord(key, {}, RECORDS), key)
    await waitForRecords(mirror.registry, [next])
  })

  it('pins every entry a snapshot brought, and their writer identities, again at open, so a garbage collection keeps the log', async () => {
    const mirror = await peers.start(undefined, { ...init, name: 'pinned-registry' })
    const key = createPublisherKey()
    const published = []
    for (let i = 0; i < 40; i++) published.push(await mirror.registry.publish(releaseRecord(key, {}, i), key))
    const freshDir = await peers.dir()
    let fresh = await peers.start(freshDir, { ...init, name: 'pinned-registry' })
    await connect(fresh, mirror)
    await waitForRecords(fresh.registry, published)
    await fresh.registry.pinsSettled({ signal: AbortSignal.timeout(30_000) })
    // what a stop in the middle of the background pinning leaves: the blocks, unpinned
    const entries = await pinnedEntries(fresh)
    assert.ok(entries.length >= published.length, `every entry is pinned: ${entries.length}`)
    const writers = await pinnedEntries(fresh, 'identities')
    // the publisher's, and this node's own
    assert.equal(writers.length, 2, `writer identities pinned: ${writers.length}`)
    for (const hash of [...entries.slice(0, 20), ...writers]) await fresh.node.content.unpin(CID.parse(hash, base58btc))
    await peers.stop(fresh)
    await forgetPinsChecked(fresh)
    await peers.stop(mirror)

    fresh = await peers.start(freshDir, { ...init, name: 'pinned-registry' })
    await fresh.registry.pinsSettled({ signal: AbortSignal.timeout(30_000) })
    await fresh.node.content.gc()
    for (const hash of [...entries, ...writers]) assert.equal(await fresh.node.content.has(CID.parse(hash, base58btc)), true, `block ${hash} survived the collection`)
    assert.deepEqual(await ids(fresh.registry), published.map(p => p.id).sort())
  })

  it('a peer serving a bad snapshot does not stop catch-up', async () => {
    const mirror = await peers.start(undefined, { ...init, name: 'second-registry' })
    const key = createPublisherKey()
    const published = []
    for (let i = 0; i < RECORDS; i++) published.push(await mirror.registry.publish(releaseRecord(key, {}, i), key))

    // a relay that replicates the log with OrbitDB and answers snapshot requests with garbage
    const relay = await peers.start(undefined, { name: 'unrelated' })
    const permissive: AccessControllerFactory = async () => ({ type: ACCESS_CONTROLLER_TYPE, address: ACCESS_CONTROLLER_ADDRESS, canAppend: async () => true })
    attackerOrbit = await createOrbitDB({ ipfs: relay.node.helia, directory: await peers.dir(), id: 'relay' })
    await connect(relay, mirror)
    const db = await attackerOrbit.open('second-registry', { type: 'events', AccessController: permissive })
    const signal = AbortSignal.timeout(30_000)
    while ((await db.log.heads())[0]?.clock.time !== RECORDS) {
      signal.throwIfAborted()
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    // a relay that checked the entries holds their writer identities too (our access controller fetches and pins them)
    const writers = new Set<string>()
    for await (const entry of db.log.iterator()) writers.add(entry.identity)
    for (const writer of writers) {
      for await (const _ of relay.node.helia.blockstore.get(CID.parse(writer, base58btc), { signal })) { /* drain */ }
    }
    await relay.node.libp2p.handle(snapshotProtocol(db.address), (stream: Stream) => {
      stream.send(Uint8Array.of(0, 0, 0, 3, 1, 2, 3, 0xff, 0xff, 0xff, 0xff))
      void stream.close()
    })
    await mirror.registry.stop()
    await mirror.node.stop()
    peers.running.delete(mirror)

    const fresh = await peers.start(undefined, { ...init, name: 'second-registry' })
    await connect(fresh, relay)
    await waitForRecords(fresh.registry, published, 60_000)
    assert.equal((await fresh.registry.status()).records, RECORDS)
  })

  it('still serves format 1 (one stream, parents first) to older peers', async () => {
    const mirror = await peers.start(undefined, { ...init, name: 'format-one' })
    const key = createPublisherKey()
    for (let i = 0; i < 30; i++) await mirror.registry.publish(releaseRecord(key, {}, i), key)
    const asker = await peers.start(undefined, { name: 'unrelated-asker' })
    await connect(asker, mirror)
    const seen = new Set<string>()
    for await (const chunk of fetchSnapshot(asker.node.libp2p, mirror.node.libp2p.peerId, snapshotProtocol(mirror.registry.address), { signal: AbortSignal.timeout(10_000) })) {
      for (const bytes of chunk) {
        const entry = decodeEntry(bytes)
        for (const parent of entry.next) assert.ok(seen.has(parent), `entry ${entry.hash} came before its parent ${parent}`)
        seen.add(entry.hash)
      }
    }
    assert.equal(seen.size, 30)
  })
})
