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
})
