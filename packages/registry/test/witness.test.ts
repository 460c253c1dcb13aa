/// <reference path="../src/orbitdb.d.ts" />
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import * as dagCbor from '@ipld/dag-cbor'
import { ed25519 } from '@noble/curves/ed25519.js'
import { createOrbitDB } from '@orbitdb/core'
import {
  ACCESS_CONTROLLER_ADDRESS, ACCESS_CONTROLLER_TYPE, WITNESS_ACCESS_CONTROLLER_ADDRESS, WITNESS_ACCESS_CONTROLLER_TYPE,
  buildWitnessRecord, createPublisherKey, createWitnessLog, encodeSignedRecord, recordFromJSON, recordToJSON, registryAddress,
  signRecord, validateRecord, verifyRecord
} from '../src/index.ts'
import type { PublisherKey, Registry, SignedRecord, WitnessDraft } from '../src/index.ts'
import type { AccessControllerFactory } from '@orbitdb/core'
import { CONTENT_CID, errorName, releaseRecord, signedRelease } from './fixtures.ts'
import { connect, Peers, waitForRecords } from './peers.ts'
import type { Peer } from './peers.ts'

const SHA = 'b'.repeat(64)

function draft (overrides: Partial<WitnessDraft> = {}): WitnessDraft {
  return {
    appId: 'org.example.Witnessed',
    version: '1.2.3',
    channel: 'release',
    arch: 'x86_64',
    url: 'https://example.org/Witnessed-x86_64.AppImage',
    sha256: SHA,
    size: 1234,
    cid: CONTENT_CID,
    ...overrides
  }
}

/** Sign any object as a record would be, skipping every check signRecord makes */
function rawWire (record: unknown, key: PublisherKey): Uint8Array {
  const r = dagCbor.encode(record)
  return dagCbor.encode({ r, s: ed25519.sign(r, key.secretKey) })
}

function permissive (type: string, address: string): AccessControllerFactory {
  return async () => ({ type, address, canAppend: async () => true })
}

describe('witness records', () => {
  it('build, sign and verify like every record, in CBOR and JSON', async () => {
    const mirror = createPublisherKey()
    const release = await signedRelease()
    const record = buildWitnessRecord(draft({ release: release.id, updateInformation: 'zsync|https://example.org/x.zsync' }), { publisher: mirror.did, time: 1_700_000_000_000 })
    const signed = await signRecord(record, mirror)
    assert.equal(signed.record.kind, 'witness')
    assert.deepEqual((await verifyRecord(encodeSignedRecord(signed))).record, record)
    assert.equal((await recordFromJSON(JSON.stringify(recordToJSON(signed)))).id, signed.id)
  })

  it('validates deterministically, with named errors', async () => {
    const base = buildWitnessRecord(draft(), { publisher: createPublisherKey().did, time: 1 })
    const cases: Array<[string, Record<string, unknown>]> = [
      ['InvalidFieldError', { sha256: 'B'.repeat(64) }],
      ['InvalidFieldError', { size: -1 }],
      ['InvalidFieldError', { cid: 'not-a-cid' }],
      ['InvalidFieldError', { url: 'file:///etc/passwd' }],
      ['InvalidFieldError', { version: '../../x' }],
      ['InvalidFieldError', { release: 'bafy-not-a-record' }],
      ['InvalidFieldError', { verdict: 'trusted' }],
      ['InvalidAppIdError', { appId: 'nope' }],
      ['InvalidChannelError', { channel: 'stable' }],
      ['InvalidFieldError', { sha256: undefined }]
    ]
    for (const [name, change] of cases) {
      const value: Record<string, unknown> = { ...base, ...change }
      for (const [k, v] of Object.entries(change)) if (v === undefined) delete value[k]
      assert.throws(() => validateRecord(value), (err: Error) => err.name === name, `expected ${name} for ${JSON.stringify(change)}`)
    }
  })

  it('live in a log of their own address, which the registry log never shares', async () => {
    assert.notEqual(await registryAddress('hubless'), await registryAddress('hubless', 'witnesses'))
    assert.notEqual(ACCESS_CONTROLLER_ADDRESS, WITNESS_ACCESS_CONTROLLER_ADDRESS)
    assert.notEqual(ACCESS_CONTROLLER_TYPE, WITNESS_ACCESS_CONTROLLER_TYPE)
  })
})

describe('the witness log', () => {
  const peers = new Peers()
  const logs: Registry[] = []
  after(async () => {
    for (const log of logs) await log.stop().catch(() => {})
    await peers.cleanup()
  })

  async function withWitnessLog (name: string): Promise<Peer & { witnesses: Registry }> {
    const peer = await peers.start(undefined, { name })
    const witnesses = await createWitnessLog({ node: peer.node }, { name })
    logs.push(witnesses)
    return { ...peer, witnesses }
  }

  it('replicates witnesses beside the registry log, and each log refuses the other\'s kinds', async () => {
    const [a, b] = [await withWitnessLog('w-two'), await withWitnessLog('w-two')]
    await connect(a, b)
    assert.equal(a.witnesses.address, await registryAddress('w-two', 'witnesses'))
    const author = createPublisherKey()
    const mirror = createPublisherKey()
    const release = await a.registry.publish(releaseRecord(author, {}, 1), author)
    const witness = await a.witnesses.publish(buildWitnessRecord(draft({ release: release.id }), { publisher: mirror.did }), mirror)
    await waitForRecords(b.registry, [release])
    await waitForRecords(b.witnesses, [witness])
    assert.equal((await b.registry.status()).records, 1, 'the registry log holds no witness')

    assert.equal(await errorName(a.registry.publish(buildWitnessRecord(draft(), { publisher: mirror.did }), mirror)), 'UnknownRecordKindError')
    assert.equal(await errorName(a.witnesses.publish(releaseRecord(author, {}, 2), author)), 'UnknownRecordKindError')
    const signed = await signRecord(buildWitnessRecord(draft({ version: '9' }), { publisher: mirror.did }), mirror)
    assert.equal(await errorName(a.registry.append(signed)), 'UnknownRecordKindError')
  })

  it('a witness entry forced into the registry log is refused as an older peer refuses it, and replication goes on', async () => {
    const a = await peers.start(undefined, { name: 'w-forced' })
    const b = await peers.start(undefined, { name: 'w-forced' })
    await connect(a, b)
    const author = createPublisherKey()
    await waitForRecords(b.registry, [await a.registry.publish(releaseRecord(author, {}, 1), author)])
    const rejected: Array<{ entry?: string, name: string }> = []
    b.registry.addEventListener('rejected', e => { rejected.push({ entry: e.detail.entry, name: e.detail.error.name }) })

    // a rogue writer with a controller that lets everything in, at the registry log's address
    const rogue = await peers.start(undefined, { name: 'unrelated' })
    const orbit = await createOrbitDB({ ipfs: rogue.node.helia, directory: await peers.dir() })
    try {
      const db = await orbit.open('w-forced', { type: 'events', AccessController: permissive(ACCESS_CONTROLLER_TYPE, ACCESS_CONTROLLER_ADDRESS) })
      assert.equal(db.address, b.registry.address)
      await connect(rogue, b)
      const signal = AbortSignal.timeout(20_000)
      while ((await db.log.heads()).length === 0) {
        signal.throwIfAborted()
        await new Promise(resolve => setTimeout(resolve, 50))
      }
      const mirror = createPublisherKey()
      const hash = await db.add(encodeSignedRecord(await signRecord(buildWitnessRecord(draft(), { publisher: mirror.did }), mirror)))
      while (!rejected.some(r => r.entry === hash)) {
        signal.throwIfAborted()
        await new Promise(resolve => setTimeout(resolve, 50))
      }
      assert.equal(rejected.find(r => r.entry === hash)?.name, 'UnknownRecordKindError')
      const next = await a.registry.publish(releaseRecord(author, {}, 2), author)
      await waitForRecords(b.registry, [next])
      assert.equal((await b.registry.status()).records, 2)
    } finally {
      await orbit.stop()
    }
  })

  it('refuses hostile witness entries with named errors and keeps replicating valid witnesses', async () => {
    const a = await withWitnessLog('w-hostile')
    const b = await withWitnessLog('w-hostile')
    await connect(a, b)
    const mirror = createPublisherKey()
    const first = await a.witnesses.publish(buildWitnessRecord(draft(), { publisher: mirror.did }), mirror)
    await waitForRecords(b.witnesses, [first])
    const rejected: Array<{ entry?: string, name: string }> = []
    b.witnesses.addEventListener('rejected', e => { rejected.push({ entry: e.detail.entry, name: e.detail.error.name }) })

    const rogue = await peers.start(undefined, { name: 'unrelated' })
    const orbit = await createOrbitDB({ ipfs: rogue.node.helia, directory: await peers.dir() })
    try {
      const db = await orbit.open('w-hostile', { type: 'events', AccessController: permissive(WITNESS_ACCESS_CONTROLLER_TYPE, WITNESS_ACCESS_CONTROLLER_ADDRESS) })
      assert.equal(db.address, b.witnesses.address)
      await connect(rogue, b)
      const signal = AbortSignal.timeout(30_000)
      while ((await db.log.heads()).length === 0) {
        signal.throwIfAborted()
        await new Promise(resolve => setTimeout(resolve, 50))
      }
      const good = buildWitnessRecord(draft({ version: '2.0' }), { publisher: mirror.did })
      const forged = encodeSignedRecord(await signRecord(good, mirror))
      forged[forged.length - 1]! ^= 1
      const release: SignedRecord = await signRecord(releaseRecord(mirror, {}, 7), mirror)
      const hostile: Array<[string, Uint8Array]> = [
        ['InvalidSignatureError', forged],
        ['InvalidFieldError', rawWire({ ...good, sha256: 'not a hash' }, mirror)],
        ['InvalidFieldError', rawWire({ ...good, trustMe: true }, mirror)],
        ['UnknownRecordKindError', encodeSignedRecord(release)]
      ]
      const hashes: string[] = []
      for (const [, wire] of hostile) hashes.push(await db.add(wire))
      while (!hashes.every(h => rejected.some(r => r.entry === h))) {
        assert.ok(!signal.aborted, `b rejected ${rejected.map(r => r.name).join(', ')}; expected ${hostile.map(h => h[0]).join(', ')}`)
        await new Promise(resolve => setTimeout(resolve, 50))
      }
      hostile.forEach(([name], i) => { assert.equal(rejected.find(r => r.entry === hashes[i])?.name, name) })
      const next = await a.witnesses.publish(buildWitnessRecord(draft({ version: '3.0' }), { publisher: mirror.did }), mirror)
      await waitForRecords(b.witnesses, [next])
      assert.equal((await b.witnesses.status()).records, 2)
    } finally {
      await orbit.stop()
    }
  })
})
