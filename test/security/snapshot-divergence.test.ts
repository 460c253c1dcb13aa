/// <reference path="../../packages/registry/src/orbitdb.d.ts" />
/**
 * A snapshot must not give a peer what live replication would not. A hostile peer serves a
 * snapshot holding an entry by a stock OrbitDB (secp256k1) writer - a valid record, a valid
 * identity - under a far-ahead Ed25519 head. Afterwards every honest peer must hold the same
 * records: the one that took the snapshot and the one that only replicated live. (FOUND: the live
 * join used to refuse stock writers while the snapshot import kept them, a permanent split view;
 * the registry now checks writers the same way on both paths.)
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, it } from 'node:test'
import { Entry, Identities, KeyStore } from '@orbitdb/core'
import { buildReleaseRecord, createPublisherKey, encodeSignedRecord, signRecord } from '@hubless/registry'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import type { KeyStoreInstance } from '@orbitdb/core'
import { createHostilePeer } from './hostile-peer.ts'
import type { HostilePeer } from './hostile-peer.ts'
import { connect, ids, Swarm, until, waitForRecords } from './swarm.ts'

const swarm = new Swarm('divergence-registry')
let hostile: HostilePeer | undefined
let keystore: KeyStoreInstance | undefined
after(async () => {
  await keystore?.close().catch(() => {})
  await hostile?.stop()
  await swarm.cleanup()
})

function frame (bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + bytes.length)
  new DataView(out.buffer).setUint32(0, bytes.length)
  out.set(bytes, 4)
  return out
}

it('a snapshot cannot give one peer a record that live replication refuses (no divergence)', async () => {
  const a = await swarm.start()
  const b = await swarm.start()
  await connect(a, b)
  const key = createPublisherKey()
  const first = await a.registry.publish(buildReleaseRecord({
    appId: 'org.split.Honest', version: '1.0', channel: 'release', arch: 'x86_64', content: { urls: ['https://example.org/h.AppImage'] }, app: { name: 'Honest' }
  }, { publisher: key.did }), key)
  await waitForRecords(b.registry, [first])

  hostile = await createHostilePeer(a.registry.address, `/hubless/registry/snapshot/1.0.0/${a.registry.address.split('/').pop()}`)
  // a stock OrbitDB writer identity (secp256k1), its block held by the hostile node
  keystore = await KeyStore({ path: join(await swarm.dir(), 'keystore') })
  const identities = await Identities({ ipfs: hostile.node.helia, keystore })
  const stock = await identities.createIdentity({ id: 'stock-writer' })
  const attacker = createPublisherKey()
  const signed = await signRecord(buildReleaseRecord({
    appId: 'org.split.Only', version: '1.0', channel: 'release', arch: 'x86_64', content: { urls: ['https://example.org/s.AppImage'] }, app: { name: 'Split' }
  }, { publisher: attacker.did }), attacker)
  const x = await Entry.encode(await Entry.create(stock, a.registry.address, { op: 'ADD', key: null, value: encodeSignedRecord(signed) }, undefined, { id: stock.publicKey, time: 1 }, [], []))
  await hostile.node.helia.blockstore.put(CID.parse(x.hash, base58btc), x.bytes)
  const y = await hostile.recordEntry(buildReleaseRecord({
    appId: 'org.split.Head', version: '1.0', channel: 'release', arch: 'x86_64', content: { urls: ['https://example.org/y.AppImage'] }, app: { name: 'Head' }
  }, { publisher: attacker.did }), attacker, { time: 500, next: [x.hash] })
  hostile.snapshot = [frame(x.bytes), frame(y.bytes)]
  hostile.heads = []

  // b sees the hostile peer as a replica (clean head exchange); a never talks to it
  await connect(hostile.node, b.node)
  await hostile.join()
  await until(() => hostile!.asked.heads >= 1, 20_000, () => 'b never exchanged heads with the hostile peer')
  await until(async () => (await hostile!.gossip(y.bytes)) > 0, 20_000, () => 'the far-ahead head reached nobody')
  await until(() => hostile!.asked.snapshot > 0, 20_000, () => 'b never asked for a snapshot')
  // let b finish importing and a catch up with whatever b now holds
  const more = await a.registry.publish(buildReleaseRecord({
    appId: 'org.split.Honest', version: '1.1', channel: 'release', arch: 'x86_64', content: { urls: ['https://example.org/h2.AppImage'] }, app: { name: 'Honest' }
  }, { publisher: key.did }), key)
  await waitForRecords(b.registry, [first, more])
  await new Promise(resolve => setTimeout(resolve, 3_000))
  const [onA, onB] = [await ids(a.registry), await ids(b.registry)]
  console.log(`# a holds ${onA.length} records, b holds ${onB.length}; b has the stock-writer record: ${onB.includes(signed.id)}`)
  assert.deepEqual(onB, onA, 'the peer that took the snapshot and the peer that replicated live disagree')
})
