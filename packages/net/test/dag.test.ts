import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as dagCbor from '@ipld/dag-cbor'
import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { mayLink, walkDag } from '../src/dag.ts'
import type { CodecLoader } from '@helia/interface'

const getCodec = (async (code: number) => {
  if (code === dagPb.code) return dagPb
  throw new Error(`no codec ${code}`)
}) as unknown as CodecLoader

/** A root over `groups` nodes of `leaves` raw leaves each; returns the blocks and the leaves in file order */
async function tree (groups: number, leaves: number): Promise<{ root: CID, blocks: Map<string, Uint8Array>, order: string[] }> {
  const blocks = new Map<string, Uint8Array>()
  const order: string[] = []
  const put = async (code: number, bytes: Uint8Array): Promise<CID> => {
    const cid = CID.createV1(code, await sha256.digest(bytes))
    blocks.set(cid.toString(), bytes)
    return cid
  }
  const inner: CID[] = []
  for (let g = 0; g < groups; g++) {
    const links: CID[] = []
    for (let l = 0; l < leaves; l++) {
      const cid = await put(raw.code, new TextEncoder().encode(`leaf ${g}.${l}`))
      links.push(cid)
      order.push(cid.toString())
    }
    inner.push(await put(dagPb.code, dagPb.encode(dagPb.prepare({ Links: links.map(Hash => ({ Hash })) }))))
  }
  const root = await put(dagPb.code, dagPb.encode(dagPb.prepare({ Links: inner.map(Hash => ({ Hash })) })))
  return { root, blocks, order }
}

describe('walkDag', () => {
  it('yields blocks in walk order with loads ahead of it, never more at once than the lookahead allows', async () => {
    const { root, blocks, order } = await tree(3, 20)
    for (const lookahead of [0, 1, 8]) {
      let running = 0
      let most = 0
      const load = async (cid: CID): Promise<Uint8Array> => {
        running++
        most = Math.max(most, running)
        // later blocks answer sooner, so that out-of-order completion would show
        await new Promise(resolve => setTimeout(resolve, Number(blocks.get(cid.toString())!.at(-1)! % 3)))
        running--
        return blocks.get(cid.toString())!
      }
      const seen: string[] = []
      for await (const b of walkDag(getCodec, root, load, { lookahead, signal: AbortSignal.timeout(10_000) })) seen.push(b.cid.toString())
      assert.deepEqual(seen.filter(c => c.startsWith('bafkrei')), order, `lookahead ${lookahead}: leaves in file order`)
      assert.equal(seen.length, blocks.size, `lookahead ${lookahead}: every block once`)
      assert.ok(most <= lookahead + 1, `lookahead ${lookahead}: at most ${lookahead + 1} loads at once, saw ${most}`)
      if (lookahead > 1) assert.ok(most > 1, `lookahead ${lookahead}: loads overlap`)
    }
  })

  it('reports a failed load ahead of the walk when the walk reaches it, and no sooner', async () => {
    const { root, blocks, order } = await tree(1, 10)
    const bad = order[5]!
    const seen: string[] = []
    const load = async (cid: CID): Promise<Uint8Array> => {
      if (cid.toString() === bad) throw new Error('this block is missing')
      return blocks.get(cid.toString())!
    }
    await assert.rejects(async () => {
      for await (const b of walkDag(getCodec, root, load, { lookahead: 8 })) seen.push(b.cid.toString())
    }, /this block is missing/)
    assert.deepEqual(seen.slice(2), order.slice(0, 5), 'the blocks before the missing one were handed out')
  })
})

describe('mayLink', () => {
  it('is false only for blocks that link to nothing: raw, and dag-cbor without a CID', async () => {
    const cid = CID.createV1(raw.code, await sha256.digest(Uint8Array.of(1)))
    const cases: Array<[string, number, unknown, boolean]> = [
      ['an entry-like map', dagCbor.code, { hash: 'zdpu', next: ['zdpuA'], payload: { value: Uint8Array.of(0xd8, 0x2b) } }, false],
      ['a map with a link', dagCbor.code, { next: cid }, true],
      ['a link deep inside', dagCbor.code, { a: [{ b: [cid] }] }, true],
      // the tag's bytes inside a byte string: a link it is not, but the scan cannot tell (decoded to see)
      ['tag bytes inside bytes', dagCbor.code, { v: Uint8Array.of(0xd8, 0x2a) }, true]
    ]
    for (const [what, code, value, expected] of cases) {
      const bytes = dagCbor.encode(value)
      assert.equal(mayLink(code, bytes), expected, what)
      // never false where the decoder finds a link
      if (!expected) assert.equal([...(await import('multiformats/block')).createUnsafe({ bytes, cid: CID.createV1(code, await sha256.digest(bytes)), codec: dagCbor }).links()].length, 0)
    }
    assert.equal(mayLink(raw.code, dagCbor.encode({ next: cid })), false)
    assert.equal(mayLink(dagPb.code, dagPb.encode(dagPb.prepare({ Links: [] }))), true)
  })
})
