import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { createPublisherKey, registryAddress } from '../src/index.ts'
import { releaseRecord } from './fixtures.ts'
import { connect, ids, Peers, waitForRecords } from './peers.ts'

describe('registry replication', () => {
  const peers = new Peers()
  after(async () => { await peers.cleanup() })

  it('three peers at the same well-known address replicate every record', async () => {
    const [a, b, c] = [await peers.start(), await peers.start(), await peers.start()]
    assert.equal(a.registry.address, await registryAddress('test-registry'))
    assert.equal(b.registry.address, a.registry.address)
    // a line: a - b - c, so c hears about a's records only through b
    await connect(a, b)
    await connect(b, c)
    const key = createPublisherKey()
    const seen: string[] = []
    c.registry.addEventListener('record', e => { seen.push(e.detail.id) })
    const published = []
    for (let i = 0; i < 5; i++) published.push(await a.registry.publish(releaseRecord(key, {}, i), key))
    published.push(await c.registry.publish(releaseRecord(key, {}, 100), key))
    for (const p of [a, b, c]) await waitForRecords(p.registry, published)
    assert.deepEqual(await ids(a.registry), await ids(c.registry))
    assert.deepEqual(await ids(b.registry), await ids(c.registry))
    const status = await b.registry.status()
    assert.equal(status.records, 6)
    assert.ok(status.peers.length >= 1)
    assert.ok((await c.registry.get(published[0]!.id))?.record.kind === 'release')
    assert.ok(seen.length >= 6, `c emitted ${seen.length} record events`)
  })
})

describe('registry partition', () => {
  const peers = new Peers()
  after(async () => { await peers.cleanup() })

  it('a partition (stop one, publish on both sides, restart) heals to identical contents', async () => {
    const [a, b] = [await peers.start(), await peers.start()]
    const cDir = await peers.dir()
    let c = await peers.start(cDir)
    await connect(a, b)
    await connect(b, c)
    const key = createPublisherKey()
    const before = await a.registry.publish(releaseRecord(key, {}, 1), key)
    for (const p of [a, b, c]) await waitForRecords(p.registry, [before])

    await peers.stop(c)
    const left = [await a.registry.publish(releaseRecord(key, {}, 2), key), await b.registry.publish(releaseRecord(key, {}, 3), key)]
    // c comes back alone (no connections): its side of the partition publishes too
    c = await peers.start(cDir)
    assert.deepEqual(await ids(c.registry), [before.id], 'c reopened with what it had')
    const right = [await c.registry.publish(releaseRecord(key, {}, 4), key), await c.registry.publish(releaseRecord(key, {}, 5), key)]
    await waitForRecords(a.registry, left)

    await connect(c, a)
    const all = [before, ...left, ...right]
    for (const p of [a, b, c]) await waitForRecords(p.registry, all)
    const contents = await ids(a.registry)
    assert.equal(contents.length, 5)
    assert.deepEqual(await ids(b.registry), contents)
    assert.deepEqual(await ids(c.registry), contents)
  })
})
