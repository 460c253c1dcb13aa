import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import {
  createPublisherKey, decodeSignedRecord, encodeSignedRecord, recordFromJSON, recordToJSON, signRecord, verifyRecord
} from '../src/index.ts'
import type { Registry, SignedRecord } from '../src/index.ts'
import { errorName, releaseRecord } from './fixtures.ts'
import { connect, Peers, waitForRecords } from './peers.ts'

// `publish` writes a record without a signature of its own: the log entry, written and signed by
// the publisher, signs it (one signature per record), and goes with it as its proof

async function all (registry: Registry): Promise<SignedRecord[]> {
  const out: SignedRecord[] = []
  for await (const r of registry.records()) out.push(r)
  return out
}

describe('records signed by their log entry', () => {
  const peers = new Peers()
  after(async () => { await peers.cleanup() })

  it('verify anywhere with their entry, on the publisher, on a replica and after a reopen', async () => {
    const a = await peers.start()
    const key = createPublisherKey()
    const published = [await a.registry.publish(releaseRecord(key, {}, 1), key), await a.registry.publish(releaseRecord(key, {}, 2), key)]
    for (const signed of published) {
      assert.equal(signed.signature, undefined)
      assert.equal(signed.entry?.id, a.registry.address)
      assert.equal((await verifyRecord(signed)).id, signed.id)
      const json = JSON.stringify(recordToJSON(signed))
      assert.ok(!json.includes('"signature"'))
      assert.equal((await recordFromJSON(json)).id, signed.id)
    }

    let b = await peers.start()
    await connect(a, b)
    await waitForRecords(b.registry, published)
    for (const signed of await all(b.registry)) await verifyRecord(signed)
    await peers.stop(b)
    // the proofs come back from the record cache
    b = await peers.start(b.directory)
    const reopened = await all(b.registry)
    assert.equal(reopened.length, published.length)
    for (const signed of reopened) {
      assert.ok(signed.entry != null)
      await verifyRecord(signed)
    }
  })

  it('fail with a named error when the proof is changed, missing or malformed', async () => {
    const a = await peers.start()
    const key = createPublisherKey()
    const signed = await a.registry.publish(releaseRecord(key, {}, 1), key)
    const proof = signed.entry!
    const flipped = `${proof.sig.slice(0, -1)}${proof.sig.endsWith('0') ? '1' : '0'}`
    const cases: Array<[string, SignedRecord]> = [
      ['InvalidSignatureError', { ...signed, entry: { ...proof, clock: { ...proof.clock, time: proof.clock.time + 1 } } }],
      ['InvalidSignatureError', { ...signed, entry: { ...proof, next: [...proof.next, proof.sig.slice(0, 46)] } }],
      ['InvalidSignatureError', { ...signed, entry: { ...proof, id: '/orbitdb/zdpuAnotherLog' } }],
      ['InvalidSignatureError', { ...signed, entry: { ...proof, sig: flipped } }],
      // the same proof for another record of the same publisher
      ['InvalidSignatureError', { ...(await signRecord(releaseRecord(key, {}, 9), key)), signature: undefined, entry: proof }],
      ['MalformedRecordError', { ...signed, entry: { ...proof, sig: 'not hex' } }],
      ['MalformedRecordError', { ...signed, entry: undefined }]
    ]
    for (const [i, [name, input]] of cases.entries()) assert.equal(await errorName(verifyRecord(input)), name, `case ${i}`)
    // the wire envelope alone is not enough
    assert.equal(await errorName(decodeSignedRecord(encodeSignedRecord(signed))), 'InvalidSignatureError')
    // nor can another writer append it
    const b = await peers.start(undefined, { name: 'another-registry' })
    assert.equal(await errorName(b.registry.append(signed)), 'InvalidSignatureError')
    const json = { ...recordToJSON(signed), signature: recordToJSON(await signRecord(releaseRecord(key, {}, 1), key)).signature }
    assert.equal(await errorName(recordFromJSON(json)), 'MalformedRecordError')
  })
})
