import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as dagCbor from '@ipld/dag-cbor'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { importFile } from 'ipfs-unixfs-importer'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { fixedSizeChunker } from '../src/index.ts'
import { readFileLayout } from '../src/file-layout.ts'
import { randomBytes } from './helpers.ts'
import type { Blockstore } from 'interface-blockstore'

/** A blockstore in memory: what the importer puts, the layout loads */
function memory (): { blocks: Map<string, Uint8Array>, load: (cid: CID) => Promise<Uint8Array>, put: (cid: CID, bytes: Uint8Array) => Promise<CID> } {
  const blocks = new Map<string, Uint8Array>()
  return {
    blocks,
    load: async cid => {
      const bytes = blocks.get(cid.toString())
      if (bytes == null) throw new Error(`no block ${cid}`)
      return bytes
    },
    put: async (cid, bytes) => { blocks.set(cid.toString(), bytes); return cid }
  }
}

async function pbBlock (node: dagPb.PBNode): Promise<{ cid: CID, bytes: Uint8Array }> {
  const bytes = dagPb.encode(node)
  return { cid: CID.createV1(dagPb.code, await sha256.digest(bytes)), bytes }
}

describe('readFileLayout', () => {
  it('places every leaf of a DAG of several levels, reading no leaf', async () => {
    const store = memory()
    const data = randomBytes(10 * 1000 + 123, 4)
    const loaded: string[] = []
    const { cid } = await importFile({ content: (async function * () { yield data })() }, { put: store.put } as unknown as Blockstore, {
      cidVersion: 1, rawLeaves: true, chunker: fixedSizeChunker(1000), layout: balanced({ maxChildrenPerNode: 3 })
    })
    const layout = await readFileLayout(cid, async c => { loaded.push(c.toString()); return store.load(c) })
    assert.equal(layout.size, data.byteLength)
    assert.equal(layout.leaves.length, 11)
    for (const leaf of layout.leaves) {
      assert.deepEqual(store.blocks.get(leaf.cid.toString()), data.subarray(leaf.offset, leaf.offset + leaf.size), `leaf at ${leaf.offset}`)
    }
    assert.ok(loaded.every(c => CID.parse(c).code === dagPb.code), 'only DAG nodes were loaded')
  })

  it('refuses nodes whose sizes do not add up, other codecs and types, and files over maxBytes', async () => {
    const store = memory()
    const leaf = { cid: CID.createV1(0x55, await sha256.digest(new Uint8Array(10))), bytes: new Uint8Array(10) }
    await store.put(leaf.cid, leaf.bytes)
    const file = (sizes: bigint[], type: 'file' | 'directory' = 'file'): Uint8Array => new UnixFS({ type, blockSizes: sizes }).marshal()
    const bad = [
      await pbBlock({ Data: file([10n]), Links: [{ Hash: leaf.cid }, { Hash: leaf.cid }] }),
      await pbBlock({ Data: file([10n], 'directory'), Links: [{ Hash: leaf.cid }] }),
      await pbBlock({ Data: new Uint8Array([0xff, 0xff]), Links: [] })
    ]
    const cbor = dagCbor.encode({ hello: 'world' })
    bad.push({ cid: CID.createV1(dagCbor.code, await sha256.digest(cbor)), bytes: cbor })
    for (const { cid, bytes } of bad) {
      await store.put(cid, bytes)
      await assert.rejects(readFileLayout(cid, store.load), { name: 'BadDagError' }, `${cid}`)
    }
    // a child that holds other than its parent says: caught when the child is loaded
    const inner = await pbBlock({ Data: file([10n, 10n]), Links: [{ Hash: leaf.cid }, { Hash: leaf.cid }] })
    await store.put(inner.cid, inner.bytes)
    const outer = await pbBlock({ Data: file([30n]), Links: [{ Hash: inner.cid }] })
    await store.put(outer.cid, outer.bytes)
    await assert.rejects(readFileLayout(outer.cid, store.load), { name: 'BadDagError' })
    const fine = await pbBlock({ Data: file([10n, 10n]), Links: [{ Hash: leaf.cid }, { Hash: leaf.cid }] })
    await store.put(fine.cid, fine.bytes)
    assert.deepEqual((await readFileLayout(fine.cid, store.load)).leaves.map(l => l.offset), [0, 10])
    await assert.rejects(readFileLayout(fine.cid, store.load, { maxBytes: 19 }), { name: 'ContentTooLargeError' })
  })
})
