import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as dagPb from '@ipld/dag-pb'
import fc from 'fast-check'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'

/** protobuf varint, by hand: 7 bits a byte, least significant first, high bit on all but the last */
function varint (n: bigint): string {
  const bytes: number[] = []
  while (n > 127n) {
    bytes.push(Number(n & 127n) | 128)
    n >>= 7n
  }
  bytes.push(Number(n))
  return Buffer.from(bytes).toString('hex')
}

/** A UnixFS file node of one 2–4 GiB child: what the root of an AppImage of that size holds */
function fileNode (size: bigint): Uint8Array {
  return new UnixFS({ type: 'file', blockSizes: [size] }).marshal()
}

describe('UnixFS sizes of 2 GiB and more (patches/protons-runtime.patch)', () => {
  it('encodes 3,000,000,000 as the varint 80 bc c1 96 0b', () => {
    assert.equal(varint(3_000_000_000n), '80bcc1960b', 'the hand-computed varint')
    // field 1 (Type) = 2 (file), field 3 (filesize) = 3e9, field 4 (blocksizes) = 3e9
    assert.equal(Buffer.from(fileNode(3_000_000_000n)).toString('hex'), '0802' + '18' + '80bcc1960b' + '20' + '80bcc1960b')
  })

  it('reads back every size from 2^31 to 2^32 - 1 as it was written, and the bytes are the varint', () => {
    for (const size of [2n ** 31n, 2n ** 31n + 1n, 3_000_000_000n, 2n ** 32n - 1n]) {
      const bytes = fileNode(size)
      assert.equal(Buffer.from(bytes).toString('hex'), `0802${'18' + varint(size)}${'20' + varint(size)}`, `the encoding of ${size}`)
      const back = UnixFS.unmarshal(bytes)
      assert.equal(back.fileSize(), size, `fileSize ${size}`)
      assert.deepEqual(back.blockSizes, [size], `blockSizes [${size}]`)
    }
  })

  it('round-trips any size up to 2^53 (property)', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 2n ** 53n }), size => {
      const bytes = fileNode(size)
      assert.equal(UnixFS.unmarshal(bytes).fileSize(), size)
      assert.equal(Buffer.from(bytes).toString('hex'), `0802${'18' + varint(size)}${'20' + varint(size)}`)
    }), { numRuns: 2000, examples: [[2n ** 31n], [2n ** 32n - 1n]] })
  })

  it('keeps a dag-pb link size (Tsize) of 2–4 GiB (dag-pb has its own varint encoder)', () => {
    const Hash = CID.parse('bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku')
    for (const Tsize of [2 ** 31, 3_000_000_000, 2 ** 32 - 1]) {
      const node = dagPb.decode(dagPb.encode({ Links: [{ Hash, Tsize }] }))
      assert.equal(node.Links[0]!.Tsize, Tsize)
    }
  })
})
