/**
 * The live set (live-set.ts): a peer far behind shows every trust record and yank and each
 * publisher's newest release per slot (or the newest not yanked) before the history, then takes
 * the history and ends with the same log; an older peer is not asked; a neighbour at its limit of
 * live sets served refuses, and the asker takes the snapshot alone; a peer serving forged or
 * foreign entries, garbage or an entry over the size bound gets named refusals, and what checked
 * out is still handed on.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { buildEndorseRecord, buildRevokeKeyRecord, buildYankRecord, createPublisherKey, encodeSignedRecord, signRecord } from '../src/index.ts'
import type { SignedRecord } from '../src/index.ts'
import { fetchLiveSet, liveSetProtocol } from '../src/log/live-set.ts'
import { serveSnapshot } from '../src/log/snapshot.ts'
import type { Stream } from '@libp2p/interface'
import { releaseRecord } from './fixtures.ts'
import { accessController, entryBytes, LOG_ID } from './helpers/snapshot-entries.ts'
import { connect, ids, Peers, waitForRecords } from './peers.ts'

async function idsOf (records: AsyncIterable<SignedRecord>): Promise<string[]> {
  const out: string[] = []
  for await (const r of records) out.push(r.id)
  return out
}

const init = { name: 'live-registry', snapshotThreshold: 16, liveSetThreshold: 16 }
const VERSIONS = 12

describe('the live set', () => {
  const peers = new Peers()
  after(async () => { await peers.cleanup() })

  it('a fresh peer far behind shows the live set first (with what stands in for a yanked or revoked newest), each record once before its history, then takes the whole log', async () => {
    const mirror = await peers.start(undefined, init)
    const owner = createPublisherKey()
    const endorser = createPublisherKey()
    const published: SignedRecord[] = []
    const newest = new Map<string, SignedRecord>()
    let n = 0
    for (let v = 0; v < VERSIONS; v++) {
      for (const appId of ['org.example.One', 'org.example.Two']) {
        for (const channel of ['release', 'nightly'] as const) {
          const signed = await mirror.registry.publish(releaseRecord(owner, { appId, channel }, n++), owner)
          published.push(signed)
          newest.set(`${appId} ${channel}`, signed)
        }
      }
    }
    // the newest nightly of One is yanked: the live set brings the one before it too
    const yanked = newest.get('org.example.One nightly')!
    const fallback = published.filter(r => r.record.kind === 'release' && r.record.appId === 'org.example.One' && r.record.channel === 'nightly').at(-2)!
    // a key revoked after its first release of Three: that first one stands in for the newest
    const lost = createPublisherKey()
    const kept = await mirror.registry.publish(releaseRecord(lost, { appId: 'org.example.Three' }, 1_000), lost)
    const revoked = await mirror.registry.publish(releaseRecord(lost, { appId: 'org.example.Three' }, 1_001), lost)
    published.push(kept, revoked)
    const trust = [
      await mirror.registry.publish(buildRevokeKeyRecord(1_700_000_001_001, 'key lost', { publisher: lost.did, time: 1_800_000_000_002 }), lost),
      await mirror.registry.publish(buildYankRecord(yanked as never, 'broken build', { publisher: owner.did, time: 1_800_000_000_000 }), owner),
      await mirror.registry.publish(buildEndorseRecord(owner.did, {}, { publisher: endorser.did, time: 1_800_000_000_001 }), endorser)
    ]
    published.push(...trust)
    const expected = [...trust, ...newest.values(), fallback, revoked, kept].map(r => r.id).sort()

    const fresh = await peers.start(undefined, init)
    const beforeLive: string[] = []
    let live: { records: number, rejected: number } | undefined
    let liveStatus: number | undefined
    let foundEarly: boolean | undefined
    let foundByApp: string[] = []
    const events: string[] = []
    fresh.registry.addEventListener('record', e => {
      events.push(e.detail.id)
      if (live == null) beforeLive.push(e.detail.id)
    })
    const livePassed = new Promise<void>(resolve => {
      fresh.registry.addEventListener('live', e => {
        live = e.detail
        // what a reader sees at this moment: the records by id, and the count not yet in the log
        void Promise.all([fresh.registry.status(), fresh.registry.get(fallback.id), idsOf(fresh.registry.find({ appId: 'org.example.Three' }))]).then(([status, found, byApp]) => {
          liveStatus = status.live
          foundEarly = found != null
          foundByApp = byApp
          resolve()
        })
      })
    })
    await connect(fresh, mirror)
    await waitForRecords(fresh.registry, published)
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([livePassed, new Promise((_resolve, reject) => { timer = setTimeout(() => { reject(new Error('no live event')) }, 10_000) })])
    clearTimeout(timer)
    assert.deepEqual({ records: live?.records, rejected: live?.rejected }, { records: expected.length, rejected: 0 })
    assert.deepEqual([...beforeLive].sort(), expected, 'before the history, exactly the live set')
    assert.equal(foundEarly, true, 'get finds a live record')
    assert.deepEqual(foundByApp.sort(), [kept.id, revoked.id].sort(), 'find reads live records too')
    assert.ok(liveStatus != null && liveStatus > 0, `status counts live records not in the log yet (${liveStatus})`)
    // every record once from the log; the live ones once more before it
    assert.equal(events.length, published.length + expected.length)
    assert.deepEqual(await ids(fresh.registry), await ids(mirror.registry))
    assert.deepEqual((await fresh.registry.status()).heads, (await mirror.registry.status()).heads, 'the same heads as the mirror')
    assert.equal((await fresh.registry.status()).live, undefined, 'nothing live is left outside the log')
  })

  it('a neighbour that does not speak the protocol (an older peer): the snapshot comes alone', async () => {
    const older = await peers.start(undefined, { ...init, name: 'live-older' })
    const key = createPublisherKey()
    const published: SignedRecord[] = []
    for (let i = 0; i < 40; i++) published.push(await older.registry.publish(releaseRecord(key, {}, i), key))
    await older.node.libp2p.unhandle(liveSetProtocol(older.registry.address))
    const fresh = await peers.start(undefined, { ...init, name: 'live-older' })
    let live = 0
    fresh.registry.addEventListener('live', () => { live++ })
    await connect(fresh, older)
    await waitForRecords(fresh.registry, published)
    assert.equal(live, 0)
    assert.equal((await fresh.registry.status()).rejected, 0)
  })

  it('a neighbour serving as many live sets as it allows refuses the next asker, who takes the snapshot alone', async () => {
    // liveSetServes 0: every asker finds the neighbour at its limit, whatever the timing
    const busy = await peers.start(undefined, { ...init, name: 'live-busy', liveSetServes: 0 })
    const key = createPublisherKey()
    const published: SignedRecord[] = []
    for (let i = 0; i < 40; i++) published.push(await busy.registry.publish(releaseRecord(key, {}, i), key))
    const asker = await peers.start(undefined, { name: 'live-busy-asker' })
    await connect(asker, busy)
    const ctx = { logId: busy.registry.address, access: await accessController(), held: async (hashes: string[]) => hashes.map(() => false), onRejected: () => {} }
    let received = 0
    await assert.rejects(async () => {
      for await (const piece of fetchLiveSet(asker.node.libp2p, busy.node.libp2p.peerId, liveSetProtocol(busy.registry.address), ctx, { signal: AbortSignal.timeout(20_000) })) received += piece.records.length
    }, { name: 'SnapshotRefusedError' }, 'a refused asker is told so, not handed an empty live set')
    assert.equal(received, 0)

    const fresh = await peers.start(undefined, { ...init, name: 'live-busy' })
    let live = 0
    fresh.registry.addEventListener('live', () => { live++ })
    await connect(fresh, busy)
    await waitForRecords(fresh.registry, published)
    assert.equal(live, 0, 'no live set came')
    assert.equal((await fresh.registry.status()).rejected, 0)
    assert.deepEqual(await ids(fresh.registry), await ids(busy.registry))
  })

  it('forged, foreign, garbled and oversize entries are refused by name; what checked out is handed on', async () => {
    const server = await peers.start(undefined, { name: 'live-hostile-server' })
    const asker = await peers.start(undefined, { name: 'live-hostile-asker' })
    const key = createPublisherKey()
        const wire = async (i: number): Promise<Uint8Array> => encodeSignedRecord(await signRecord(releaseRecord(key, {}, i), key))
    const good = await entryBytes(await wire(1), key, 1, [])
    const forged = await entryBytes(await wire(2), key, 2, [], { entrySig: true })
    const foreign = await entryBytes(await wire(3), key, 3, [], { logId: '/orbitdb/zdpuSomeOtherLog' })
    const protocol = liveSetProtocol(LOG_ID)
    let oversize = false
    await server.node.libp2p.handle(protocol, (stream: Stream) => {
      if (oversize) {
        // a length over any entry's bound, before any entry bytes
        stream.send(Uint8Array.of(0x7f, 0xff, 0xff, 0xff))
        void stream.close()
        return
      }
      void serveSnapshot(stream, (async function * () { yield * [forged.bytes, Uint8Array.of(1, 2, 3), foreign.bytes, good.bytes] })())
    })
    await connect(asker, server)
    const refused: string[] = []
    const ctx = { logId: LOG_ID, access: await accessController(), held: async (hashes: string[]) => hashes.map(() => false), onRejected: (_hash: string, err: Error) => { refused.push(err.name) } }
    const signal = AbortSignal.timeout(20_000)
    const records: SignedRecord[] = []
    let rejected = 0
    for await (const piece of fetchLiveSet(asker.node.libp2p, server.node.libp2p.peerId, protocol, ctx, { signal })) {
      records.push(...piece.records)
      rejected += piece.rejected
    }
    assert.deepEqual(records.map(r => r.record.kind === 'release' ? r.record.version : r.record.kind), ['1.0.1'])
    assert.equal(rejected, 3)
    assert.deepEqual(refused.sort(), ['InvalidSignatureError', 'MalformedRecordError'])

    oversize = true
    await assert.rejects(async () => {
      for await (const _ of fetchLiveSet(asker.node.libp2p, server.node.libp2p.peerId, protocol, ctx, { signal })) { /* drain */ }
    }, { name: 'OversizeRecordError' })
    // the server side still serves its own live set after all this
    assert.equal((await server.registry.status()).rejected, 0)
  })
})
