/// <reference path="../../packages/registry/src/orbitdb.d.ts" />
/**
 * The snapshot-divergence scenario, run as its own process by snapshot-divergence.test.ts so that
 * a peer that hangs cannot hang the suite: prints `{"a": [...], "b": [...], "stock": id}` (the
 * record ids each honest peer holds) and exits 0, or prints the error and exits 1.
 */
import { join } from 'node:path'
import { Entry, Identities, KeyStore } from '@orbitdb/core'
import { buildReleaseRecord, createPublisherKey, encodeSignedRecord, signRecord } from '@hubless/registry'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import type { KeyStoreInstance } from '@orbitdb/core'
import { createHostilePeer } from './hostile-peer.ts'
import type { HostilePeer } from './hostile-peer.ts'
import { connect, ids, Swarm, until, waitForRecords } from './swarm.ts'

function frame (bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + bytes.length)
  new DataView(out.buffer).setUint32(0, bytes.length)
  out.set(bytes, 4)
  return out
}

async function scenario (swarm: Swarm, held: { hostile?: HostilePeer, keystore?: KeyStoreInstance }): Promise<{ a: string[], b: string[], stock: string }> {
  const a = await swarm.start()
  const b = await swarm.start()
  await connect(a, b)
  const key = createPublisherKey()
  const first = await a.registry.publish(buildReleaseRecord({
    appId: 'org.split.Honest', version: '1.0', channel: 'release', arch: 'x86_64', content: { urls: ['https://example.org/h.AppImage'] }, app: { name: 'Honest' }
  }, { publisher: key.did }), key)
  await waitForRecords(b.registry, [first])

  const hostile = await createHostilePeer(a.registry.address, `/hubless/registry/snapshot/1.0.0/${a.registry.address.split('/').pop()}`)
  held.hostile = hostile
  // a stock OrbitDB writer identity (secp256k1), its block held by the hostile node
  const keystore = await KeyStore({ path: join(await swarm.dir(), 'keystore') })
  held.keystore = keystore
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
  await until(() => hostile.asked.heads >= 1, 20_000, () => 'b never exchanged heads with the hostile peer')
  await until(async () => (await hostile.gossip(y.bytes)) > 0, 20_000, () => 'the far-ahead head reached nobody')
  await until(() => hostile.asked.snapshot > 0, 20_000, () => 'b never asked for a snapshot')
  // let b finish importing and a catch up with whatever b now holds
  const more = await a.registry.publish(buildReleaseRecord({
    appId: 'org.split.Honest', version: '1.1', channel: 'release', arch: 'x86_64', content: { urls: ['https://example.org/h2.AppImage'] }, app: { name: 'Honest' }
  }, { publisher: key.did }), key)
  await waitForRecords(b.registry, [first, more])
  await new Promise(resolve => setTimeout(resolve, 3_000))
  const [onA, onB] = [await ids(a.registry), await ids(b.registry)]
  return { a: onA, b: onB, stock: signed.id }
}

const swarm = new Swarm('divergence-registry')
const held: { hostile?: HostilePeer, keystore?: KeyStoreInstance } = {}
let code = 0
try {
  process.stdout.write(JSON.stringify(await scenario(swarm, held)) + '\n')
} catch (err) {
  process.stdout.write(JSON.stringify({ error: (err as Error).message }) + '\n')
  code = 1
} finally {
  await held.keystore?.close().catch(() => {})
  await held.hostile?.stop()
  await swarm.cleanup()
}
process.exit(code)
