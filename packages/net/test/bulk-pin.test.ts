import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { fixedSizeChunker } from '../src/index.ts'
import { drain } from '../src/iterables.ts'
import { createFixture, randomBytes } from './helpers.ts'
import type { HublessNode } from '../src/index.ts'

/** a dag-cbor block of `value` */
async function blockOf (value: unknown): Promise<{ cid: CID, bytes: Uint8Array }> {
  const bytes = dagCbor.encode(value)
  return { cid: CID.createV1(dagCbor.code, await sha256.digest(bytes)), bytes }
}

/** Helia's pin records (`/pin/…` and `/pinned-block/…`), as key → hex value */
async function pinRecords (node: HublessNode): Promise<Record<string, string>> {
  const records: Record<string, string> = {}
  for await (const { key, value } of node.helia.datastore.query({ prefix: '/pin' })) {
    records[key.toString()] = Buffer.from(value).toString('hex')
  }
  return records
}

describe('bulk pin (an add\'s pin records, written in batches)', () => {
  const fixture = createFixture()
  after(async () => { await fixture.cleanup() })

  // two files sharing their first 300,000 bytes (three 100,000-byte leaves)
  const shared = randomBytes(300_000, 3)
  const first = new Uint8Array([...shared, ...randomBytes(250_000, 4)])
  const second = new Uint8Array([...shared, ...randomBytes(180_000, 5)])
  const chunker = fixedSizeChunker(100_000)

  it('writes what Helia\'s pins.add writes, block for block, also for blocks another pin holds', async () => {
    const helia = await fixture.node()
    const bulk = await fixture.node()
    const roots = []
    for (const bytes of [first, second]) {
      // Helia's own pin over the same DAG
      const root = await helia.content.add(bytes, { chunker, pin: false })
      await drain(helia.helia.pins.add(root))
      // the add path's
      assert.equal((await bulk.content.add(bytes, { chunker })).toString(), root.toString())
      roots.push(root)
    }
    const expected = await pinRecords(helia)
    assert.ok(Object.keys(expected).length > 8, 'both roots and their blocks have records')
    assert.deepEqual(await pinRecords(bulk), expected)
    // a shared leaf is held by both roots
    const counts = Object.entries(expected).filter(([key]) => key.startsWith('/pinned-block/')).length
    assert.ok(counts < 2 * 6, 'the shared leaves have one record each')
    assert.deepEqual((await bulk.helia.pins.get(roots[0]!)).depth, Number.POSITIVE_INFINITY)
  })

  it('pins roots of one block (log entries) in a batch as Helia would, and leaves those that link on or are not here', async () => {
    const helia = await fixture.node()
    const bulk = await fixture.node()
    const entries = await Promise.all(Array.from({ length: 50 }, async (_, i) => blockOf({ id: '/orbitdb/x', payload: i, next: [`zdpu${i}`] })))
    const linking = await blockOf({ parent: entries[0]!.cid })
    const absent = await blockOf({ never: 'stored' })
    for (const node of [helia, bulk]) await node.content.putBlocks([...entries, linking])
    for (const { cid } of entries) await drain(helia.helia.pins.add(cid))
    const left = await bulk.content.pinMany([...entries.map(e => e.cid), linking.cid, absent.cid, entries[3]!.cid])
    assert.deepEqual(left.map(String), [linking.cid, absent.cid].map(String))
    assert.deepEqual(await pinRecords(bulk), await pinRecords(helia))
    // again: nothing changes
    assert.deepEqual(await bulk.content.pinMany(entries.map(e => e.cid)), [])
    assert.deepEqual(await pinRecords(bulk), await pinRecords(helia))
  })

  it('with leaves, pins every root as its one block, unread: what a block links to is not pinned, and gc takes it', async () => {
    const node = await fixture.node()
    const child = await blockOf({ child: true })
    const linking = await blockOf({ parent: child.cid })
    const entry = await blockOf({ id: '/orbitdb/x', payload: 1, next: [] })
    await node.content.putBlocks([child, linking, entry])
    assert.deepEqual(await node.content.pinMany([linking.cid, entry.cid], { leaves: true }), [])
    assert.equal(await node.content.isPinned(linking.cid), true)
    assert.equal(await node.content.isPinned(entry.cid), true)
    assert.equal(await node.content.isPinned(child.cid), false)
    await node.content.gc()
    assert.equal(await node.helia.blockstore.has(child.cid), false)
    assert.equal(await node.helia.blockstore.has(linking.cid), true)
    // the records are those of a pin over a DAG of one block, as Helia writes them
    const helia = await fixture.node()
    await helia.content.putBlocks([entry])
    await drain(helia.helia.pins.add(entry.cid))
    const ours = await pinRecords(node)
    for (const [key, value] of Object.entries(await pinRecords(helia))) assert.equal(ours[key], value, key)
  })

  it('encodes a block\'s pin record as cborg does, whatever its count and holders', async () => {
    const cborg = await import('cborg')
    const { encodePinnedBlock } = await import('../src/bulk-pin.ts')
    for (const holders of [0, 1, 2, 23, 24, 300]) {
      const pinned = { pinCount: holders === 300 ? 70_000 : holders, pinnedBy: Array.from({ length: holders }, (_, i) => randomBytes(i % 40, i)) }
      assert.deepEqual(encodePinnedBlock(pinned), cborg.encode(pinned), `${holders} holders`)
    }
  })

  it('is read by Helia: isPinned, rm and gc keep what the other pin holds and collect the rest', async () => {
    const node = await fixture.node()
    const a = await node.content.add(first, { chunker })
    const b = await node.content.add(second, { chunker })
    // adding a pinned file again changes nothing
    const before = await pinRecords(node)
    assert.equal((await node.content.add(first, { chunker })).toString(), a.toString())
    assert.deepEqual(await pinRecords(node), before)
    assert.equal(await node.content.isPinned(a), true)
    await node.content.unpin(a)
    const { removed } = await node.content.gc()
    assert.ok(removed >= 4, `the first file's own three leaves and its DAG node(s) go (${removed})`)
    assert.deepEqual(await node.content.get(b, { offline: true }), second)
    await assert.rejects(node.content.get(a, { offline: true }), (err: Error) => err.name === 'ContentNotFoundError')
  })
})
