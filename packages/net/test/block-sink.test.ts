import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { LevelBlockstore } from 'blockstore-level'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { createBlockSink } from '../src/block-sink.ts'
import { createFixture, randomBytes } from './helpers.ts'

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

  async function open (): Promise<LevelBlockstore> {
    const store = new LevelBlockstore(join(await fixture.dir(), 'blocks'))
    await store.open()
    stores.push(store)
    return store
  }

  it('stores blocks put at once, several at a time past the in-flight limit, and each once', async () => {
    const store = await open()
    const sink = createBlockSink(store, 10_000)
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

  it('passes a failed write on to the next put or the flush', async () => {
    const store = await open()
    const sink = createBlockSink(store, 1)
    await store.close()
    const { cid, bytes } = await rawBlock(randomBytes(100, 7))
    await assert.rejects(async () => {
      await sink.blockstore.put(cid, bytes)
      await sink.flush()
    }, /not open/i)
  })
})
