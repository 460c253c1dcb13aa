import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { importer } from 'ipfs-unixfs-importer'
import { balanced, type FileLayout } from 'ipfs-unixfs-importer/layout'
import { CID } from 'multiformats/cid'
import { contentDefinedLayout, DAG_LAYOUT, fixedSizeChunker } from '../src/index.ts'
import { createFixture, randomBytes } from './helpers.ts'

const RAW = 0x55
const CHUNK = 1000

/** The blocks the importer writes, by CID */
type Blocks = Map<string, Uint8Array>

async function build (bytes: Uint8Array, layout: FileLayout = contentDefinedLayout(), chunk = CHUNK): Promise<{ root: CID, blocks: Blocks }> {
  const blocks: Blocks = new Map()
  const blockstore = {
    async put (cid: CID, block: Uint8Array) { blocks.set(cid.toString(), block); return cid }
  }
  let root: CID | undefined
  // biome-ignore lint/suspicious/noExplicitAny: the importer's Blockstore type wants more than put, which is all it calls for a file
  for await (const entry of importer([{ content: (async function * () { yield bytes })() }], blockstore as any, { cidVersion: 1, rawLeaves: true, chunker: fixedSizeChunker(chunk), layout })) root = entry.cid
  assert.ok(root !== undefined, 'the importer gave a root')
  return { root, blocks }
}

/** The file's bytes, read by walking the DAG: every node's block sizes must add up to what lies under it */
function read (blocks: Blocks, cid: CID): Uint8Array {
  const block = blocks.get(cid.toString())
  assert.ok(block !== undefined, `block ${cid} is in the DAG`)
  if (cid.code === RAW) return block
  const node = dagPb.decode(block)
  const file = UnixFS.unmarshal(node.Data!)
  assert.equal(file.type, 'file')
  const parts = node.Links.map(link => read(blocks, link.Hash))
  assert.deepEqual(parts.map(p => BigInt(p.byteLength)), file.blockSizes, 'block sizes match the children')
  return new Uint8Array(Buffer.concat(parts))
}

/** The DAG's nodes level by level from the leaves' parents up (the root's level last), in file order */
function levels (blocks: Blocks, root: CID): Array<Array<{ cid: string, children: number }>> {
  const out: Array<Array<{ cid: string, children: number }>> = []
  let level = [root]
  while (level.length > 0 && level[0]!.code !== RAW) {
    const nodes = level.map(cid => ({ cid, links: dagPb.decode(blocks.get(cid.toString())!).Links }))
    out.unshift(nodes.map(n => ({ cid: n.cid.toString(), children: n.links.length })))
    level = nodes.flatMap(n => n.links.map(l => l.Hash))
  }
  return out
}

/** Blocks of `after` that `before` lacks, DAG nodes only */
function freshNodes (before: Blocks, after: Blocks): number {
  let n = 0
  for (const cid of after.keys()) if (!before.has(cid) && CID.parse(cid).code !== RAW) n++
  return n
}

describe('content-defined DAG layout', () => {
  const fixture = createFixture()
  after(async () => { await fixture.cleanup() })

  it('builds the same DAG from the same bytes, and reads back byte-identical', async () => {
    const data = randomBytes(2_000_000, 3)
    const a = await build(data)
    const b = await build(data)
    assert.equal(a.root.toString(), b.root.toString())
    assert.deepEqual(read(a.blocks, a.root), data)
    assert.ok(levels(a.blocks, a.root).length >= 3, '2,000 leaves at 16 links a node make at least three levels of nodes')
  })

  it('refetches only the nodes on a changed leaf\'s path and a neighbour or two a level, where balanced regroups', async () => {
    const data = randomBytes(3_000_000, 4)
    const before = await build(data)
    const height = levels(before.blocks, before.root).length
    const changed = data.slice()
    changed[1_500_500] = changed[1_500_500]! ^ 0xff
    // an inserted leaf shifts every later leaf: still local when boundaries follow content
    const inserted = new Uint8Array(Buffer.concat([data.subarray(0, 1_200_000), randomBytes(CHUNK, 9), data.subarray(1_200_000)]))
    for (const [what, bytes] of [['a changed leaf', changed], ['an inserted leaf', inserted]] as const) {
      const fresh = freshNodes(before.blocks, (await build(bytes)).blocks)
      assert.ok(fresh >= 1 && fresh <= 2 * height + 1, `${what}: ${fresh} new nodes, expected at most two a level (${height} levels) and the root`)
    }
    const balancedBefore = await build(data, balanced({ maxChildrenPerNode: 16 }))
    const balancedAfter = await build(inserted, balanced({ maxChildrenPerNode: 16 }))
    assert.ok(freshNodes(balancedBefore.blocks, balancedAfter.blocks) > 100, 'balanced nodes after an insertion all change')
  })

  it('keeps nodes within their bounds of children, and caps runs of one repeated leaf', async () => {
    const init = { boundaryOdds: 4, minChildren: 3, maxChildren: 8 }
    const noise = randomBytes(400_000, 5)
    // 300 equal leaves: every one a boundary or none, so min or max decides
    const data = new Uint8Array(Buffer.concat([noise, new Uint8Array(300 * CHUNK), noise]))
    const { root, blocks } = await build(data, contentDefinedLayout(init))
    assert.deepEqual(read(blocks, root), data)
    for (const [i, level] of levels(blocks, root).entries()) {
      for (const [j, node] of level.entries()) {
        assert.ok(node.children <= init.maxChildren, `level ${i} node ${j}: ${node.children} children, at most ${init.maxChildren}`)
        if (j < level.length - 1) assert.ok(node.children >= init.minChildren, `level ${i} node ${j}: ${node.children} children, at least ${init.minChildren} but in the last node of a level`)
      }
    }
    assert.throws(() => contentDefinedLayout({ boundaryOdds: 3, minChildren: 2, maxChildren: 8 }), { name: 'BadLayoutParametersError' })
    assert.throws(() => contentDefinedLayout({ boundaryOdds: 4, minChildren: 1, maxChildren: 8 }), { name: 'BadLayoutParametersError' })
    assert.throws(() => contentDefinedLayout({ ...DAG_LAYOUT, maxChildren: 1 }), { name: 'BadLayoutParametersError' })
  })

  it('gives a file of one chunk and an empty file the CIDs the balanced layout gives', async () => {
    for (const bytes of [randomBytes(CHUNK - 1, 6), new Uint8Array(0)]) {
      const ours = await build(bytes)
      const theirs = await build(bytes, balanced({ maxChildrenPerNode: 1024 }))
      assert.equal(ours.root.toString(), theirs.root.toString(), `a file of ${bytes.byteLength} bytes`)
      assert.equal(ours.root.code, RAW, 'one chunk is its own root')
      assert.deepEqual(read(ours.blocks, ours.root), bytes)
    }
  })

  it('is what content.add builds: Helia\'s UnixFS reads it back whole and by byte ranges', async () => {
    const node = await fixture.node()
    const data = randomBytes(700_000, 7)
    const cid = await node.content.add(data, { chunker: fixedSizeChunker(CHUNK) })
    assert.equal(cid.toString(), (await build(data)).root.toString())
    const { unixfs } = await import('@helia/unixfs')
    const parts: Uint8Array[] = []
    for await (const part of unixfs(node.helia).cat(cid)) parts.push(part)
    assert.deepEqual(new Uint8Array(Buffer.concat(parts)), data)
    for (const [offset, length] of [[0, 1], [999, 2], [123_456, 200_000], [699_999, 1], [350_000, 350_000]] as const) {
      assert.deepEqual(await node.content.get(cid, { offset, length }), data.subarray(offset, offset + length), `bytes ${offset}+${length}`)
    }
  })
})
