/// <reference path="../src/orbitdb.d.ts" />
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import * as dagCbor from '@ipld/dag-cbor'
import { ed25519 } from '@noble/curves/ed25519.js'
import { createOrbitDB, Entry, Identities, KeyStore } from '@orbitdb/core'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import {
  ACCESS_CONTROLLER_ADDRESS, ACCESS_CONTROLLER_TYPE, createPublisherKey, encodeSignedRecord, MAX_RECORD_BYTES, signRecord
} from '../src/index.ts'
import type { PublisherKey } from '../src/index.ts'
import type { AccessControllerFactory, Identity, KeyStoreInstance, OrbitDB } from '@orbitdb/core'
import { fromString } from 'uint8arrays/from-string'
import { toString as bytesToString } from 'uint8arrays/to-string'
import { sign as signBytes } from '../src/records/ed25519.ts'
import { identityForKey } from '../src/log/writer-identity.ts'
import { releaseRecord } from './fixtures.ts'
import { connect, ids, Peers, waitForRecords } from './peers.ts'

/** Sign any object as a record would be, skipping every check signRecord makes */
function rawWire (record: unknown, key: PublisherKey): Uint8Array {
  const r = dagCbor.encode(record)
  return dagCbor.encode({ r, s: ed25519.sign(r, key.secretKey) })
}

/** An access controller that lets everything in, at the address honest peers use */
const permissive: AccessControllerFactory = async () => ({ type: ACCESS_CONTROLLER_TYPE, address: ACCESS_CONTROLLER_ADDRESS, canAppend: async () => true })

const EXPECTED = ['InvalidSignatureError', 'MalformedRecordError', 'OversizeRecordError', 'UnknownRecordKindError', 'InvalidAppIdError', 'InvalidChannelError', 'ForgedIdentityError']

interface TwoPeers {
  a: Awaited<ReturnType<Peers['start']>>
  b: Awaited<ReturnType<Peers['start']>>
  key: PublisherKey
  /** what b's access controller rejected */
  rejected: Array<{ entry: string | undefined, name: string }>
}

describe('hostile writers', () => {
  const peers = new Peers()

  /** Two connected peers of registry `name` holding one record by `key`; b's rejections are recorded */
  async function twoPeersWithOneRecord (name: string): Promise<TwoPeers> {
    const [a, b] = [await peers.start(undefined, { name }), await peers.start(undefined, { name })]
    await connect(a, b)
    const key = createPublisherKey()
    await waitForRecords(b.registry, [await a.registry.publish(releaseRecord(key, {}, 1), key)])
    const rejected: TwoPeers['rejected'] = []
    b.registry.addEventListener('rejected', e => { rejected.push({ entry: e.detail.entry, name: e.detail.error.name }) })
    return { a, b, key, rejected }
  }

  /** b rejects the entry with a named error, and the next valid record still replicates to it */
  async function expectRejectedWhileReplicating ({ a, b, key, rejected }: TwoPeers, hash: string, name: string, signal: AbortSignal): Promise<void> {
    while (!rejected.some(r => r.entry === hash)) {
      signal.throwIfAborted()
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    assert.equal(rejected.find(r => r.entry === hash)?.name, name)
    const next = await a.registry.publish(releaseRecord(key, {}, 3), key)
    await waitForRecords(b.registry, [next])
    assert.equal((await b.registry.status()).records, 2)
  }
  /**
   * A writer outside the registry: real OrbitDB on a node of its own, writing as `identity` with a
   * controller that lets everything in, connected to `peer`; resolves once it holds the log's heads
   */
  async function rogueWriter (name: string, identity: (helia: Awaited<ReturnType<Peers['start']>>['node']['helia']) => Promise<Identity>, peer: TwoPeers['b'], signal: AbortSignal): Promise<{ db: Awaited<ReturnType<OrbitDB['open']>>, heads: Awaited<ReturnType<Awaited<ReturnType<OrbitDB['open']>>['log']['heads']>>, orbit: OrbitDB }> {
    const writer = await peers.start(undefined, { name: 'unrelated' })
    const orbit = await createOrbitDB({ ipfs: writer.node.helia, directory: await peers.dir(), identity: await identity(writer.node.helia) })
    const db = await orbit.open(name, { type: 'events', AccessController: permissive })
    await connect(writer, peer)
    let heads = await db.log.heads()
    while (heads.length === 0) {
      signal.throwIfAborted()
      await new Promise(resolve => setTimeout(resolve, 50))
      heads = await db.log.heads()
    }
    return { db, heads, orbit }
  }

  let attackerOrbit: OrbitDB | undefined
  let keystore: KeyStoreInstance | undefined
  after(async () => {
    await attackerOrbit?.stop().catch(() => {})
    await keystore?.close().catch(() => {})
    await peers.cleanup()
  })

  it('rejects each bad entry with a named error and keeps replicating every valid record', async () => {
    const [a, b] = [await peers.start(), await peers.start()]
    await connect(a, b)
    const key = createPublisherKey()
    const valid = [await a.registry.publish(releaseRecord(key, {}, 1), key)]
    await waitForRecords(b.registry, valid)

    const rejected = new Map<string, Set<string>>()
    for (const [n, p] of [['a', a], ['b', b]] as const) {
      p.registry.addEventListener('rejected', e => {
        const set = rejected.get(e.detail.error.name) ?? new Set()
        set.add(n)
        rejected.set(e.detail.error.name, set)
      })
    }

    // The attacker runs real OrbitDB on a real node, with a controller that lets everything in and
    // a writer identity that names a's identity while its entries are signed by the attacker's key.
    const attacker = await peers.start(undefined, { name: 'unrelated' })
    keystore = await KeyStore({ path: await peers.dir() })
    const identities = await Identities({ ipfs: attacker.node.helia, keystore })
    const own = await identities.createIdentity({ id: 'attacker' })
    const victim = (await a.registry.status()).identity
    const forged: Identity = { ...own, hash: victim, sign: async (_i: Identity, data: string | Uint8Array) => identities.sign(own, data) }
    attackerOrbit = await createOrbitDB({ ipfs: attacker.node.helia, directory: await peers.dir(), identity: forged })
    const db = await attackerOrbit.open('test-registry', { type: 'events', AccessController: permissive })
    assert.equal(db.address, a.registry.address)
    await connect(attacker, a)
    const signal = AbortSignal.timeout(20_000)
    while (db.sync.peers.size === 0) {
      signal.throwIfAborted()
      await new Promise(resolve => setTimeout(resolve, 50))
    }

    const good = releaseRecord(key, {}, 50)
    const goodWire = encodeSignedRecord(await signRecord(good, key))
    const badSig = Uint8Array.from(goodWire)
    badSig[badSig.length - 1]! ^= 1
    const payloads: Array<[string, Uint8Array]> = [
      ['InvalidSignatureError', badSig],
      ['MalformedRecordError', Uint8Array.of(0xa2, 0x61, 0x72, 0x58)],
      ['OversizeRecordError', dagCbor.encode({ r: new Uint8Array(MAX_RECORD_BYTES + 1), s: new Uint8Array(64) })],
      ['UnknownRecordKindError', rawWire({ ...good, kind: 'delete-everything' }, key)],
      ['InvalidAppIdError', rawWire({ ...good, appId: 'not an app id' }, key)],
      ['InvalidChannelError', rawWire({ ...good, channel: 'stable' }, key)],
      // a perfectly valid record: only the writer identity is forged
      ['ForgedIdentityError', goodWire]
    ]
    for (const [, payload] of payloads) await db.add(payload)

    // honest writers carry on, on both sides
    valid.push(await a.registry.publish(releaseRecord(key, {}, 2), key))
    valid.push(await b.registry.publish(releaseRecord(key, {}, 3), key))
    await waitForRecords(a.registry, valid)
    await waitForRecords(b.registry, valid)

    while (!EXPECTED.every(name => rejected.get(name)?.has('a'))) {
      assert.ok(!signal.aborted, `a rejected only ${[...rejected.keys()].join(', ')}; expected ${EXPECTED.join(', ')}`)
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    // nothing of the attacker's entered either log
    for (const p of [a, b]) {
      const status = await p.registry.status()
      assert.equal(status.records, valid.length, `${status.records} records, expected ${valid.length}`)
    }
    valid.push(await b.registry.publish(releaseRecord(key, {}, 4), key))
    await waitForRecords(a.registry, valid)
  })

  it('admits a publisher-written entry on its entry signature, and rejects it when that signature is bad', async () => {
    const { a, b, key, rejected } = await twoPeersWithOneRecord('one-signature')
    const signal = AbortSignal.timeout(20_000)
    // the publisher's own writer identity, but every entry signed by some other key
    const other = createPublisherKey()
    const badSigner = async (helia: Parameters<typeof identityForKey>[0]): Promise<Identity> => ({
      ...await identityForKey(helia, key),
      sign: async (_i: Identity, data: string | Uint8Array) => bytesToString(await signBytes(typeof data === 'string' ? fromString(data) : data, other), 'base16')
    })
    const { db, heads, orbit } = await rogueWriter('one-signature', badSigner, b, signal)
    try {
      // the attacker replicated a's entry: it was written with the publisher's key
      assert.equal(heads[0]!.key, bytesToString(key.publicKey, 'base16'), 'registry.publish writes with the publisher key')
      const hash = await db.add(encodeSignedRecord(await signRecord(releaseRecord(key, {}, 2), key)))
      await expectRejectedWhileReplicating({ a, b, key, rejected }, hash, 'InvalidSignatureError', signal)
    } finally {
      await orbit.stop()
    }
  })

  it('rejects a publisher-written entry whose record signature is bad, though the entry signature is good', async () => {
    const { a, b, key, rejected } = await twoPeersWithOneRecord('record-signature')
    const signal = AbortSignal.timeout(20_000)
    // the publisher's own writer identity signs the entry properly; only the record's signature is broken
    const { db, orbit } = await rogueWriter('record-signature', async helia => identityForKey(helia, key), b, signal)
    try {
      const wire = encodeSignedRecord(await signRecord(releaseRecord(key, {}, 2), key))
      wire[wire.length - 1]! ^= 1
      const hash = await db.add(wire)
      // a record in the log verifies anywhere, so its own signature is checked
      await expectRejectedWhileReplicating({ a, b, key, rejected }, hash, 'InvalidSignatureError', signal)
    } finally {
      await orbit.stop()
    }
  })

  it('rejects a record without its own signature in an entry another writer wrote, while replication goes on', async () => {
    const { a, b, key, rejected } = await twoPeersWithOneRecord('entry-signed')
    const signal = AbortSignal.timeout(20_000)
    // a valid writer identity of another key writes the publisher's record without a signature
    const { db, orbit } = await rogueWriter('entry-signed', async helia => identityForKey(helia, createPublisherKey()), b, signal)
    try {
      const unsigned = { ...(await signRecord(releaseRecord(key, {}, 2), key)), signature: undefined }
      const hash = await db.add(encodeSignedRecord(unsigned))
      await expectRejectedWhileReplicating({ a, b, key, rejected }, hash, 'InvalidSignatureError', signal)
    } finally {
      await orbit.stop()
    }
  })

  it('takes valid records from a stock OrbitDB writer (secp256k1 identity)', async () => {
    const a = await peers.start(undefined, { name: 'stock-writer' })
    const stockNode = await peers.start(undefined, { name: 'unrelated' })
    const orbit = await createOrbitDB({ ipfs: stockNode.node.helia, directory: await peers.dir(), id: 'stock' })
    try {
      assert.equal(orbit.identity.publicKey.length, 66, 'a secp256k1 writer')
      const db = await orbit.open('stock-writer', { type: 'events', AccessController: permissive })
      await connect(stockNode, a)
      const key = createPublisherKey()
      const signed = await signRecord(releaseRecord(key, {}, 1), key)
      await db.add(encodeSignedRecord(signed))
      await waitForRecords(a.registry, [signed])
      // and a's own record, written after it, builds on it
      const mine = await a.registry.publish(releaseRecord(key, {}, 2), key)
      const signal = AbortSignal.timeout(20_000)
      while (!(await db.log.has((await a.registry.status()).heads[0]!))) {
        signal.throwIfAborted()
        await new Promise(resolve => setTimeout(resolve, 50))
      }
      assert.ok(mine.id)
    } finally {
      await orbit.stop()
    }
  })

  it('an entry whose parents nobody holds holds up other records for at most a few seconds', async () => {
    const [a, b] = [await peers.start(undefined, { name: 'orphans' }), await peers.start(undefined, { name: 'orphans' })]
    await connect(a, b)
    const key = createPublisherKey()
    const first = await a.registry.publish(releaseRecord(key, {}, 1), key)
    await waitForRecords(b.registry, [first])

    const attacker = await peers.start(undefined, { name: 'unrelated' })
    const orbit = await createOrbitDB({ ipfs: attacker.node.helia, directory: await peers.dir(), id: 'orphaner' })
    try {
      const db = await orbit.open('orphans', { type: 'events', AccessController: permissive })
      await connect(attacker, b)
      const signal = AbortSignal.timeout(20_000)
      while (db.sync.peers.size === 0) {
        signal.throwIfAborted()
        await new Promise(resolve => setTimeout(resolve, 50))
      }
      // a valid record by a valid writer, whose parent is a block that exists nowhere
      const nowhere = CID.createV1(0x71, await sha256.digest(crypto.getRandomValues(new Uint8Array(32)))).toString(base58btc)
      const payload = { op: 'ADD', key: null, value: encodeSignedRecord(await signRecord(releaseRecord(key, {}, 99), key)) }
      const orphan = await Entry.encode(await Entry.create(orbit.identity, db.address, payload, undefined, { id: orbit.identity.publicKey, time: 2 }, [nowhere], []))
      await attacker.node.helia.libp2p.services.pubsub.publish(db.address, orphan.bytes)

      const started = Date.now()
      const next = await b.registry.publish(releaseRecord(key, {}, 2), key, { signal: AbortSignal.timeout(15_000) })
      await waitForRecords(a.registry, [next], 15_000)
      const waited = Date.now() - started
      assert.ok(waited < 12_000, `a valid record waited ${waited} ms behind one orphan entry (OrbitDB alone: 30 s)`)
      assert.ok(!(await ids(b.registry)).includes(orphan.hash))
    } finally {
      await orbit.stop()
    }
  })
})
