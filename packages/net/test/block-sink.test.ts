import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { LevelBlockstore } from 'blockstore-level'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { createBlockSink } from '../src/block-sink.ts'
import { createFixture, randomBytes } from './helpers.ts'
import type { TieredBlockstore } from '../src/tiered-blockstore.ts'

async function rawBlock (bytes: Uint8Array): Promise<{ cid: CID, bytes: Uint8Array }> {
  return { cid: CID.createV1(raw.code, await sha256.digest(bytes)), bytes }
}

describe('block sink', () => {
  const fixture = createFixture()
  const stores: LevelBlockstore[] = []
  after(async () => {
    await Promise.allSettled(stores.map(async store => store.close()))
    await fixture.cleanup()
  })

  async function open (): Promise<LevelBlockstore & Pick<TieredBlockstore, 'putAll'>> {
    const store = new LevelBlockstore(join(await fixture.dir(), 'blocks'))
    await store.open()
    stores.push(store)
    return Object.assign(store, {
      putAll: async (blocks: ReadonlyArray<{ cid: CID, bytes: Uint8Array }>) => { for (const { cid, bytes } of blocks) await store.put(cid, bytes) }
    })
  }

  it('stores blocks put at once, several at a time past the in-flight limit, and each once', async () => {
    const store = await open()
    const sink = createBlockSink(store, { inFlightBytes: 10_000 })
    const blocks = await Promise.all(Array.from({ length: 60 }, async (_, i) => rawBlock(randomBytes(3_000 + i, i + 1))))
    // the importer puts up to ten blocks without waiting for the first; a repeated block is written once
    await Promise.all([...blocks, blocks[0]!].map(async ({ cid, bytes }) => sink.blockstore.put(cid, bytes)))
    await sink.flush()
    for (const { cid, bytes } of blocks) {
      const parts: Uint8Array[] = []
      for await (const part of store.get(cid)) parts.push(part)
      assert.deepEqual(new Uint8Array(Buffer.concat(parts)), bytes, `block ${cid} is stored`)
    }
  })

  it('hands blocks to the store in batches, before the flush once a batch is full', async () => {
    const store = await open()
    const batches: number[] = []
    const putAll = store.putAll
    store.putAll = async (blocks) => { batches.push(blocks.length); await putAll(blocks) }
    const sink = createBlockSink(store)
    const blocks = await Promise.all(Array.from({ length: 300 }, async (_, i) => rawBlock(randomBytes(500, i + 100))))
    for (const { cid, bytes } of blocks) await sink.blockstore.put(cid, bytes)
    assert.ok(batches.length >= 2 && batches.every(n => n > 1), `written in batches before the flush (${batches.join(', ')})`)
    await sink.flush()
    assert.equal(batches.reduce((a, b) => a + b, 0), 300)
    assert.deepEqual(sink.dag(blocks[0]!.cid), [blocks[0]!.cid], 'a raw leaf is a DAG of itself')
    const missing = await rawBlock(randomBytes(10, 9))
    assert.equal(sink.dag(missing.cid), undefined, 'a block not put here is not known')
  })

  it('frees the buffers of written leaves it owns, when a leaf fills its buffer whole, and no others', async () => {
    const store = await open()
    const owned = createBlockSink(store, { ownBuffers: true })
    const whole = await rawBlock(randomBytes(2_000, 41))
    const shared = randomBytes(4_000, 42)
    const part = await rawBlock(shared.subarray(0, 2_000))
    await owned.blockstore.put(whole.cid, whole.bytes)
    await owned.blockstore.put(part.cid, part.bytes)
    await owned.flush()
    assert.equal(whole.bytes.byteLength, 0, 'the leaf\'s own buffer is freed once written')
    assert.equal(shared.byteLength, 4_000, 'a buffer the leaf shares is left')
    const parts: Uint8Array[] = []
    for await (const p of store.get(whole.cid)) parts.push(p)
    assert.equal(Buffer.concat(parts).byteLength, 2_000, 'what was written is whole')
    const caller = await rawBlock(randomBytes(2_000, 43))
    const notOwned = createBlockSink(store)
    await notOwned.blockstore.put(caller.cid, caller.bytes)
    await notOwned.flush()
    assert.equal(caller.bytes.byteLength, 2_000, 'without ownBuffers nothing is freed')
  })

  it('passes a failed write on to the next put or the flush', async () => {
    const store = await open()
    const sink = createBlockSink(store, { inFlightBytes: 1 })
    await store.close()
    const { cid, bytes } = await rawBlock(randomBytes(100, 7))
    await assert.rejects(async () => {
      await sink.blockstore.put(cid, bytes)
      await sink.flush()
    }, /not open/i)
  })
})
