import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { createPublisherKey, verifyRecord } from '../src/index.ts'
import { releaseRecord } from './fixtures.ts'
import { connect, ids, Peers, waitForRecords } from './peers.ts'

describe('publishMany', () => {
  const peers = new Peers()
  after(async () => { await peers.cleanup() })

  it('appends batches as chains on one head, replicates them, and reopens with them', async () => {
    const dir = await peers.dir()
    let a = await peers.start(dir)
    const b = await peers.start()
    await connect(a, b)
    const key = createPublisherKey()
    const single = await a.registry.publish(releaseRecord(key, {}, 0), key)
    const records = Array.from({ length: 250 }, (_, i) => releaseRecord(key, {}, i + 1))
    const progress: number[] = []
    // a duplicate in the input and one record the log holds already
    const published = await a.registry.publishMany([...records, records[3]!, releaseRecord(key, {}, 0)], key, { batchSize: 64, onProgress: p => { progress.push(p.done) } })
    assert.equal(published.length, 252)
    assert.equal(published[250]!.id, published[3]!.id, 'a duplicate comes back as the record appended')
    assert.equal(published[251]!.id, single.id)
    assert.deepEqual(progress, [64, 128, 192, 252])
    for (const p of published.slice(0, 5)) {
      assert.equal(p.signature, undefined, 'signed by its entry, as publish does')
      assert.equal((await verifyRecord(p)).id, p.id)
    }
    const status = await a.registry.status()
    assert.equal(status.records, 251)
    assert.equal(status.heads.length, 1, `one head after chained batches, got ${status.heads.length}`)
    // one more single publish lands on that head
    const after = await a.registry.publish(releaseRecord(key, {}, 999), key)
    assert.equal((await a.registry.status()).heads.length, 1)
    await waitForRecords(b.registry, [single, ...published, after])
    assert.deepEqual(await ids(b.registry), await ids(a.registry))
    await a.registry.pinsSettled({ signal: AbortSignal.timeout(30_000) })
    await peers.stop(a)
    a = await peers.start(dir)
    assert.equal((await a.registry.status()).records, 252)
    assert.equal((await a.registry.status()).heads.length, 1)
  })

  it('writes the very entries that as many publish calls write', async () => {
    const [one, many] = [await peers.start(undefined, { name: 'same-entries' }), await peers.start(undefined, { name: 'same-entries' })]
    const key = createPublisherKey()
    const records = Array.from({ length: 12 }, (_, i) => releaseRecord(key, {}, i))
    const first = await one.registry.publish(records[0]!, key)
    const [again] = await many.registry.publishMany(records.slice(0, 1), key)
    assert.deepEqual(again, first, 'the same record, with the same entry as its proof')
    for (const r of records.slice(1)) await one.registry.publish(r, key)
    // a batch on top of the head the first one left: the same next, refs and clocks as OrbitDB's appends
    await many.registry.publishMany(records.slice(1), key, { batchSize: 5 })
    const proofs = async (p: typeof one) => { const out = []; for await (const r of p.registry.records()) out.push({ next: r.entry?.next, refs: r.entry?.refs, time: r.entry?.clock.time }); return out }
    assert.deepEqual(await proofs(many), await proofs(one))
    assert.deepEqual((await many.registry.status()).heads, (await one.registry.status()).heads, 'the same head, so the same chain of entries')
  })
})
