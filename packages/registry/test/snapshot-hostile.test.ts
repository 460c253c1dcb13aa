/// <reference path="../src/orbitdb.d.ts" />
/**
 * Snapshot format 2 from a hostile peer: a relay that replicates the log (stock OrbitDB, no
 * checks) and answers format-2 requests with a wrong piece, a truncated one, a huge one, a
 * manifest that loops, entries of another log, or a manifest of a later format. The asker gets a
 * named error, loses nothing, and still ends with the whole log (OrbitDB's join, or format 1).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createOrbitDB } from '@orbitdb/core'
import * as dagCbor from '@ipld/dag-cbor'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { ACCESS_CONTROLLER_ADDRESS, ACCESS_CONTROLLER_TYPE, createPublisherKey } from '../src/index.ts'
import type { SignedRecord } from '../src/index.ts'
import { serveSnapshot, snapshotProtocol } from '../src/log/snapshot.ts'
import { fetchManifest, fetchPieces } from '../src/log/snapshot-exchange.ts'
import { decodeRequest, encodeManifest, encodePiece, pieceCid, snapshotProtocolV2 } from '../src/log/snapshot-wire.ts'
import type { SnapshotManifest } from '../src/log/snapshot-wire.ts'
import type { Stream } from '@libp2p/interface'
import type { AccessControllerFactory, OrbitDB } from '@orbitdb/core'
import { releaseRecord } from './fixtures.ts'
import { entryBytes } from './helpers/snapshot-entries.ts'
import { connect, Peers, waitForRecords } from './peers.ts'
import type { Peer } from './peers.ts'

const RECORDS = 80
const init = { name: 'hostile-snapshot', snapshotThreshold: 16 }
type Mode = 'wrong' | 'truncated' | 'huge' | 'loop' | 'newer' | 'foreign' | 'short'

/** a framed request (u16 length + bytes); the asker keeps its end open until it has the answer */
async function readRequest (stream: Stream): Promise<Uint8Array> {
  let buf = new Uint8Array(0)
  for await (const c of stream) {
    buf = Uint8Array.from([...buf, ...(c instanceof Uint8Array ? c : c.subarray())])
    if (buf.length >= 2 && buf.length >= 2 + ((buf[0]! << 8) | buf[1]!)) break
  }
  return buf.subarray(2)
}

describe('snapshot format 2 from a hostile peer', () => {
  const peers = new Peers()
  let relayOrbit: OrbitDB | undefined
  let relay: Peer
  const published: SignedRecord[] = []
  let mode: Mode = 'wrong'
  const asked = { v1: 0, v2: 0 }
  let honest: { manifest: SnapshotManifest, pieces: Map<string, Uint8Array>, entries: Uint8Array[] }
  /** a manifest whose first piece carries an entry of another log, and one that covers half the log but names its heads */
  let foreign: SnapshotManifest
  let short: SnapshotManifest

  before(async () => {
    const mirror = await peers.start(undefined, init)
    const key = createPublisherKey()
    for (let i = 0; i < RECORDS; i++) published.push(await mirror.registry.publish(releaseRecord(key, {}, i), key))
    relay = await peers.start(undefined, { name: 'unrelated' })
    const permissive: AccessControllerFactory = async () => ({ type: ACCESS_CONTROLLER_TYPE, address: ACCESS_CONTROLLER_ADDRESS, canAppend: async () => true })
    relayOrbit = await createOrbitDB({ ipfs: relay.node.helia, directory: await peers.dir(), id: 'relay' })
    await connect(relay, mirror)
    const db = await relayOrbit.open(init.name, { type: 'events', AccessController: permissive })
    const signal = AbortSignal.timeout(30_000)
    while ((await db.log.heads())[0]?.clock.time !== RECORDS) {
      signal.throwIfAborted()
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    const byClock: Array<{ time: number, bytes: Uint8Array }> = []
    const writers = new Set<string>()
    for await (const entry of db.log.iterator()) {
      byClock.push({ time: entry.clock.time, bytes: (await db.log.storage.get(entry.hash!))! })
      writers.add(entry.identity)
    }
    // a relay that checked the entries holds their writer identities too
    for (const writer of writers) {
      for await (const _ of relay.node.helia.blockstore.get(CID.parse(writer, base58btc), { signal })) { /* drain */ }
    }
    const entries = byClock.sort((a, b) => a.time - b.time).map(e => e.bytes)
    const halves = [entries.slice(0, RECORDS / 2), entries.slice(RECORDS / 2)].map(encodePiece)
    const manifest: SnapshotManifest = { v: 2, log: db.address, entries: RECORDS, heads: (await db.log.heads()).map(h => h.hash!), pieces: halves.map(p => ({ cid: pieceCid(p), entries: RECORDS / 2, bytes: p.length })) }
    honest = { manifest, pieces: new Map(halves.map(p => [pieceCid(p).toString(), p])), entries }
    const other = await entryBytes(Uint8Array.of(1), key, 1, [], { logId: '/orbitdb/zdpuSomeOtherLog' })
    const withForeign = encodePiece([other.bytes, ...entries.slice(0, RECORDS / 2)])
    honest.pieces.set(pieceCid(withForeign).toString(), withForeign)
    foreign = { ...manifest, entries: RECORDS + 1, pieces: [{ cid: pieceCid(withForeign), entries: RECORDS / 2 + 1, bytes: withForeign.length }, manifest.pieces[1]!] }
    short = { ...manifest, entries: RECORDS / 2, pieces: [manifest.pieces[0]!] }
    await relay.node.libp2p.handle(snapshotProtocol(db.address), (stream: Stream) => {
      asked.v1++
      void serveSnapshot(stream, (async function * () { yield * entries })())
    })
    await relay.node.libp2p.handle(snapshotProtocolV2(db.address), (stream: Stream) => {
      asked.v2++
      void (async () => {
        const { piece } = decodeRequest(await readRequest(stream))
        let answer: Uint8Array
        if (piece == null) {
          const m = honest.manifest
          if (mode === 'loop') answer = encodeManifest({ ...m, entries: RECORDS, pieces: [m.pieces[0]!, m.pieces[0]!] })
          else if (mode === 'newer') answer = dagCbor.encode({ v: 3, log: m.log, next: 'something else' })
          else answer = encodeManifest(mode === 'foreign' ? foreign : mode === 'short' ? short : m)
        } else {
          const bytes = honest.pieces.get(piece.toString())!
          if (mode === 'wrong') answer = honest.pieces.get(honest.manifest.pieces[1]!.cid.toString())!.slice(0, bytes.length)
          else if (mode === 'truncated') answer = bytes.subarray(0, bytes.length - 10)
          else if (mode === 'huge') answer = new Uint8Array(bytes.length * 3)
          else answer = bytes
        }
        stream.send(answer)
        await stream.close()
      })().catch(err => { stream.abort(err as Error) })
    })
    await peers.stop(mirror)
  })

  after(async () => {
    await relayOrbit?.stop().catch(() => {})
    await peers.cleanup()
  })

  const expected: Record<Exclude<Mode, 'foreign' | 'short'>, string> = {
    wrong: 'SnapshotPieceError', truncated: 'SnapshotPieceError', huge: 'OversizeRecordError', loop: 'SnapshotManifestError', newer: 'SnapshotVersionError'
  }
  for (const m of Object.keys(expected) as Array<keyof typeof expected>) {
    it(`${m}: a named error (${expected[m]}), and the asker still takes the whole log`, async () => {
      mode = m
      const before = { ...asked }
      const fresh = await peers.start(undefined, init)
      await connect(fresh, relay)
      const { libp2p } = fresh.node
      const protocol = snapshotProtocolV2(honest.manifest.log)
      const signal = AbortSignal.timeout(20_000)
      await assert.rejects(async () => {
        const manifest = await fetchManifest(libp2p, relay.node.libp2p.peerId, protocol, honest.manifest.log, { signal })
        for await (const _ of fetchPieces(libp2p, relay.node.libp2p.peerId, protocol, manifest, { signal })) { /* drain */ }
      }, { name: expected[m] })
      await waitForRecords(fresh.registry, published, 60_000)
      assert.ok(asked.v2 > before.v2, 'the relay was asked for format 2')
      if (m === 'newer') assert.ok(asked.v1 > before.v1, 'a manifest of a later format is ignored: format 1 is asked for instead')
      assert.equal((await fresh.registry.status()).rejected, 0, 'nothing refused: the snapshot was not taken, the log came by replication')
      await peers.stop(fresh)
    })
  }

  it('foreign: an entry of another log in a piece is refused by name, the rest of the snapshot taken', async () => {
    mode = 'foreign'
    const fresh = await peers.start(undefined, init)
    const refused: string[] = []
    fresh.registry.addEventListener('rejected', e => { refused.push(e.detail.error.name) })
    await connect(fresh, relay)
    await waitForRecords(fresh.registry, published, 60_000)
    assert.deepEqual(refused, ['MalformedRecordError'])
    await peers.stop(fresh)
  })

  it('short: a manifest that names heads its pieces do not bring (SnapshotHeadsError, see snapshot-stream.test.ts): what they brought stays, the rest replicates', async () => {
    mode = 'short'
    const fresh = await peers.start(undefined, init)
    await connect(fresh, relay)
    const { libp2p } = fresh.node
    const manifest = await fetchManifest(libp2p, relay.node.libp2p.peerId, snapshotProtocolV2(short.log), short.log, { signal: AbortSignal.timeout(10_000) })
    assert.deepEqual(manifest.heads, honest.manifest.heads, 'the manifest claims the whole log')
    await waitForRecords(fresh.registry, published, 60_000)
    assert.equal((await fresh.registry.status()).rejected, 0)
    await peers.stop(fresh)
  })

  it('an older peer that speaks only format 1 is still asked, in format 1 (and format 2 is never offered to it)', async () => {
    await relay.node.libp2p.unhandle(snapshotProtocolV2(honest.manifest.log))
    const before = { ...asked }
    const fresh = await peers.start(undefined, init)
    await connect(fresh, relay)
    await waitForRecords(fresh.registry, published, 60_000)
    assert.ok(asked.v1 > before.v1, 'format 1 was asked for')
    assert.equal(asked.v2, before.v2)
    assert.equal((await fresh.registry.status()).rejected, 0)
    await peers.stop(fresh)
  })
})
