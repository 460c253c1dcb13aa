import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import fc from 'fast-check'
import { HOLDS_PROTOCOL, askHolds, createPublisherKey, holds, holdsAll, parseHoldsQuery } from '../src/index.ts'
import type { HoldsComponents } from '../src/index.ts'
import { signedRelease } from './fixtures.ts'
import { Peers, connect } from './peers.ts'

/** components that hold `records` and pin `pins`, and a registrar that remembers what was handled */
function stubs (records: string[], pins: string[]): HoldsComponents & { handled: Set<string> } {
  const handled = new Set<string>()
  return {
    handled,
    registrar: {
      async handle (protocol) { for (const p of [protocol].flat()) handled.add(p) },
      async unhandle (protocol) { for (const p of [protocol].flat()) handled.delete(p) }
    },
    registry: { async has (id) { return records.includes(id) } },
    content: {
      async isPinned (cid) {
        if (String(cid) === 'broken') throw new Error('the blockstore failed')
        return pins.includes(String(cid))
      }
    }
  }
}

describe('holds protocol', () => {
  it('answers from only the registry and the pins it is given, and registers while started', async () => {
    const components = stubs(['r1'], ['c1'])
    const service = holds()(components)
    const query = { records: ['r1', 'r2'], pins: ['c1', 'broken'] }
    const answer = await service.answer(query)
    assert.deepEqual(answer, { records: [true, false], pins: [true, false] }, 'a failing lookup is a no, not an error')
    assert.equal(holdsAll(answer, query), false)
    assert.equal(holdsAll({ records: [true], pins: [] }, { records: ['r1'], pins: [] }), true)
    assert.equal(holdsAll({ records: [], pins: [] }, { records: ['r1'], pins: [] }), false, 'an answer that skips an item is no')
    await service.start()
    assert.deepEqual([...components.handled], [HOLDS_PROTOCOL])
    await service.stop()
    assert.equal(components.handled.size, 0, 'stop unregisters')
  })

  it('takes only bounded lists of short strings off the wire', () => {
    assert.deepEqual(parseHoldsQuery('{"records":["a"]}'), { records: ['a'], pins: [] })
    for (const bad of ['', 'null', '[]', '{"records":"a"}', '{"pins":[1]}', `{"pins":["${'x'.repeat(129)}"]}`, JSON.stringify({ records: Array(257).fill('a') })]) {
      assert.throws(() => parseHoldsQuery(bad), { name: 'InvalidHoldsMessageError' }, bad.slice(0, 40))
    }
    fc.assert(fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map(v => JSON.stringify({ records: v, pins: v }))), text => {
      try {
        const query = parseHoldsQuery(text)
        assert.ok(query.records.length <= 256 && query.pins.length <= 256)
      } catch (err) {
        assert.equal((err as Error).name, 'InvalidHoldsMessageError', String(err))
      }
    }))
  })

  describe('between two nodes', () => {
    const peers = new Peers()
    after(async () => { await peers.cleanup() })

    it('tells a publisher which records and pins a peer keeps', async () => {
      const asker = await peers.start()
      const holder = await peers.start()
      const service = holds({ timeout: 5_000 })({ registrar: holder.node.libp2p, registry: holder.registry, content: holder.node.content })
      await service.start()
      const key = createPublisherKey()
      const signed = await holder.registry.publish((await signedRelease(key)).record, key)
      const cid = (await holder.node.content.add(new TextEncoder().encode('an app image'))).toString()
      await connect(asker, holder)
      const query = { records: [signed.id], pins: [cid] }
      const answer = await askHolds(asker.node.libp2p, holder.node.peerId, query, { signal: AbortSignal.timeout(10_000) })
      assert.deepEqual(answer, { records: [true], pins: [true] }, 'the holder keeps the record and pins what it added')
      assert.equal(holdsAll(answer, query), true)
      const missing = await askHolds(asker.node.libp2p, holder.node.peerId, { records: [`${signed.id.slice(0, -2)}aa`], pins: [] }, { signal: AbortSignal.timeout(10_000) })
      assert.deepEqual(missing, { records: [false], pins: [] })
      await service.stop()
      await assert.rejects(askHolds(asker.node.libp2p, holder.node.peerId, query, { signal: AbortSignal.timeout(10_000) }), 'a stopped service answers nothing')
    })
  })
})
