/// <reference path="../src/orbitdb.d.ts" />
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as dagCbor from '@ipld/dag-cbor'
import { Entry } from '@orbitdb/core'
import { createPublisherKey, encodeSignedRecord, signRecord } from '../src/index.ts'
import type { HublessAccessController } from '../src/log/access-controller.ts'
import { createSignatureBatch } from '../src/codecs/signature-batch.ts'
import { decodeEntry, importSnapshot } from '../src/log/snapshot.ts'
import type { ImportContext } from '../src/log/snapshot.ts'
import { sign, verify } from '../src/records/ed25519.ts'
import { releaseRecord } from './fixtures.ts'
import { accessController, entryBytes, hex, LOG_ID } from './helpers/snapshot-entries.ts'

function context (access: HublessAccessController, rejected: Map<string, string>): ImportContext {
  return {
    logId: LOG_ID,
    access,
    empty: true,
    has: async () => false,
    putBlocks: async () => {},
    index: async () => {},
    unindex: async () => {},
    joinEntry: async () => true,
    onRejected: (hash, error) => { rejected.set(hash, error.name) }
  }
}

describe('snapshot import', () => {
  it('decodes entries exactly as OrbitDB does', async () => {
    const key = createPublisherKey()
    const wire = encodeSignedRecord(await signRecord(releaseRecord(key), key))
    const { bytes } = await entryBytes(wire, key, 1, [])
    assert.deepEqual(decodeEntry(bytes), await Entry.decode(bytes))
  })

  it('keeps only entries whose signatures, identity and ancestry all check out', async () => {
    const key = createPublisherKey()
    const node = createPublisherKey()
    const records = await Promise.all([0, 1, 2, 3, 4, 5].map(async i => signRecord(releaseRecord(key, {}, i), key)))
    const wire = records.map(encodeSignedRecord)
    // a record whose own signature is bad, in an entry whose signature is good
    const badRecord = encodeSignedRecord({ ...records[2]!, signature: records[3]!.signature })
    const good0 = await entryBytes(wire[0]!, key, 1, [])
    const good1 = await entryBytes(wire[1]!, node, 2, [good0.hash])
    const badRecordSig = await entryBytes(badRecord, key, 3, [good1.hash])
    const afterBad = await entryBytes(wire[3]!, key, 4, [badRecordSig.hash])
    const badEntrySig = await entryBytes(wire[4]!, node, 2, [good0.hash], { entrySig: true })
    const good5 = await entryBytes(wire[5]!, key, 3, [good1.hash])
    const rejected = new Map<string, string>()
    const result = await importSnapshot([good0, good1, badRecordSig, afterBad, badEntrySig, good5].map(b => b.bytes), context(await accessController(), rejected))
    assert.deepEqual(result.imported.map(i => i.entryHash).sort(), [good0.hash, good1.hash, good5.hash].sort())
    assert.equal(rejected.get(badRecordSig.hash), 'InvalidSignatureError', 'a bad record signature is rejected, though the entry signature is good')
    assert.equal(rejected.get(badEntrySig.hash), 'InvalidSignatureError', 'a bad entry signature is rejected, whoever wrote the entry')
    assert.equal(result.rejected, 3, 'the bad two, and the entry that hangs under one of them')
  })

  it('rejects an entry that claims an identity that is not its key\'s', async () => {
    const key = createPublisherKey()
    const other = createPublisherKey()
    const wire = encodeSignedRecord(await signRecord(releaseRecord(key), key))
    const value = { id: LOG_ID, payload: { op: 'ADD', key: null, value: wire }, next: [], refs: [], clock: { id: hex(other.publicKey), time: 1 }, v: 2 }
    const sig = await sign(dagCbor.encode(value), other)
    const bytes = dagCbor.encode({ ...value, key: hex(other.publicKey), identity: `identity:${key.did}`, sig: hex(sig) })
    const rejected = new Map<string, string>()
    const result = await importSnapshot([bytes], context(await accessController(), rejected))
    assert.equal(result.imported.length, 0)
    assert.deepEqual([...rejected.values()], ['ForgedIdentityError'])
  })
})

describe('signature batch', () => {
  it('agrees with verify on good and bad signatures and keys, on the worker and on this thread', async () => {
    const key = createPublisherKey()
    const cases: Array<[Uint8Array, Uint8Array, Uint8Array]> = []
    for (let i = 0; i < 300; i++) {
      const message = Uint8Array.of(i & 0xff, i >> 8, 7)
      let signature = await sign(message, key)
      let publicKey = key.publicKey
      if (i % 3 === 1) signature = Uint8Array.from(signature, (b, j) => j === 5 ? b ^ 0x10 : b)
      // not a point on the curve
      if (i % 7 === 2) publicKey = new Uint8Array(32).fill(0xff)
      cases.push([signature, message, publicKey])
    }
    const expected = await Promise.all(cases.map(async ([s, m, k]) => verify(s, m, k)))
    assert.ok(expected.includes(true) && expected.includes(false))
    const batch = createSignatureBatch({ batchSize: 32 })
    const pending = Promise.all(cases.map(async ([s, m, k]) => batch.verify(s, m, k)))
    await batch.help()
    assert.deepEqual(await pending, expected)
    // after close, checks are answered on this thread
    batch.close()
    assert.deepEqual(await Promise.all(cases.slice(0, 20).map(async ([s, m, k]) => batch.verify(s, m, k))), expected.slice(0, 20))
  })

  it('answers checks queued after help() returned, when a partial batch waited for both slots of the worker (a snapshot import hung on it)', async () => {
    const key = createPublisherKey()
    const message = Uint8Array.of(1, 2, 3)
    const signature = await sign(message, key)
    const batch = createSignatureBatch({ batchSize: 4 })
    try {
      await batch.help()
      // two whole batches fill the worker's two slots; the 3 left over are a partial batch
      const late = Promise.all(Array.from({ length: 11 }, async () => batch.verify(signature, message, key.publicKey)))
      const verdicts = await Promise.race([late, new Promise<never>((_resolve, reject) => {
        setTimeout(() => { reject(new Error('checks queued after help() were never answered')) }, 5_000).unref()
      })])
      assert.deepEqual(verdicts, Array.from({ length: 11 }, () => true))
    } finally {
      batch.close()
    }
  })
})
