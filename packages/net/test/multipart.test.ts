import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { parseContentRange } from '../src/byte-ranges.ts'
import { createLeafAssembler } from '../src/leaf-assembler.ts'
import { byterangesBoundary, createByterangesParser } from '../src/multipart.ts'
import { planRangeBatches } from '../src/ranged-fetch.ts'
import { randomBytes } from './helpers.ts'
import type { RangeBytes } from '../src/multipart.ts'

const BOUNDARY = 'hubless-0123abcd'

/** A multipart/byteranges body as file-response.ts writes it */
function multipart (file: Uint8Array, ranges: Array<[number, number]>, boundary = BOUNDARY): Uint8Array {
  const parts: Buffer[] = []
  for (const [start, end] of ranges) {
    parts.push(Buffer.from(`\r\n--${boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes ${start}-${end}/${file.byteLength}\r\n\r\n`))
    parts.push(Buffer.from(file.subarray(start, end + 1)))
  }
  parts.push(Buffer.from(`\r\n--${boundary}--\r\n`))
  return Buffer.concat(parts)
}

/** Feeds `body` to a parser in pieces cut at `cuts`, and puts the bytes back at their offsets */
function parse (body: Uint8Array, size: number, cuts: number[] = [], maxHeadBytes?: number): { file: Uint8Array, seen: number, done: boolean } {
  const parser = createByterangesParser({ boundary: BOUNDARY, size, source: 'test', maxHeadBytes })
  const file = new Uint8Array(size)
  let seen = 0
  let at = 0
  for (const cut of [...cuts.filter(c => c > 0 && c < body.byteLength).sort((a, b) => a - b), body.byteLength]) {
    for (const { offset, bytes } of parser.push(body.subarray(at, cut))) {
      file.set(bytes, offset)
      seen += bytes.byteLength
    }
    at = cut
  }
  return { file, seen, done: parser.done }
}

describe('multipart/byteranges parser', () => {
  const file = randomBytes(10_000, 7)

  it('reads the boundary of a multipart/byteranges type only', () => {
    assert.equal(byterangesBoundary(`multipart/byteranges; boundary=${BOUNDARY}`), BOUNDARY)
    assert.equal(byterangesBoundary('Multipart/ByteRanges; charset=x; boundary="a b:c"'), 'a b:c')
    for (const type of [null, 'application/octet-stream', 'multipart/mixed; boundary=x', 'multipart/byteranges', 'multipart/byteranges; boundary=', `multipart/byteranges; boundary=${'x'.repeat(71)}`, 'multipart/byteranges; boundary="a\r\nb"']) {
      assert.equal(byterangesBoundary(type), undefined, String(type))
    }
  })

  it('gives every byte of every part at its offset, however the body is cut', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.nat(9999), fc.nat(400)), { minLength: 1, maxLength: 8 }),
      fc.array(fc.nat(12_000), { maxLength: 20 }),
      (pairs, cuts) => {
        const ranges = pairs.map(([start, length]): [number, number] => [start, Math.min(start + length, file.byteLength - 1)])
        const { file: got, seen, done } = parse(multipart(file, ranges), file.byteLength, cuts)
        assert.ok(done, 'expected the closing delimiter to be seen')
        assert.equal(seen, ranges.reduce((sum, [a, b]) => sum + b - a + 1, 0))
        for (const [start, end] of ranges) assert.deepEqual(got.subarray(start, end + 1), file.subarray(start, end + 1))
      }
    ))
  })

  it('refuses parts of another file, without a Content-Range, or with a body longer than it says', () => {
    const other = Buffer.from(multipart(file, [[0, 9]])).toString('latin1').replace('/10000', '/9999')
    assert.throws(() => parse(Buffer.from(other, 'latin1'), file.byteLength), { name: 'BadRangeAnswerError' })
    const none = Buffer.from(multipart(file, [[0, 9]])).toString('latin1').replace('Content-Range', 'X-Range')
    assert.throws(() => parse(Buffer.from(none, 'latin1'), file.byteLength), { name: 'BadRangeAnswerError' })
    const longer = Buffer.from(multipart(file, [[0, 9], [20, 29]])).toString('latin1').replace('bytes 0-9/', 'bytes 0-7/')
    assert.throws(() => parse(Buffer.from(longer, 'latin1'), file.byteLength), { name: 'BadRangeAnswerError' })
  })

  it('holds no more than its head limit of a hostile answer, and fails only with BadRangeAnswerError', () => {
    // an endless head: headers that never end
    const parser = createByterangesParser({ boundary: BOUNDARY, size: 100, source: 'test', maxHeadBytes: 1024 })
    parser.push(Buffer.from(`\r\n--${BOUNDARY}\r\n`))
    assert.throws(() => { for (let i = 0; i < 100; i++) parser.push(Buffer.from('X-Filler: yes\r\n')) }, { name: 'BadRangeAnswerError' })
    // no delimiter at all
    assert.throws(() => parse(randomBytes(5000, 3), 100, [], 1024), { name: 'BadRangeAnswerError' })
    // anything at all: bytes out are only ever views of bytes in, inside the file
    fc.assert(fc.property(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.nat(3000), { maxLength: 5 }), fc.boolean(), (junk, cuts, framed) => {
      const body = framed ? Buffer.concat([Buffer.from(`--${BOUNDARY}\r\nContent-Range: bytes 0-99/100\r\n\r\n`), junk]) : junk
      try {
        const { seen } = parse(body, 100, cuts, 1024)
        assert.ok(seen <= 100 * Math.max(1, body.byteLength))
      } catch (err) {
        assert.equal((err as Error).name, 'BadRangeAnswerError', (err as Error).message)
      }
    }))
  })

  it('reads Content-Range headers, and only well-formed ones', () => {
    assert.deepEqual(parseContentRange('bytes 0-9/100'), { start: 0, end: 9, size: 100 })
    assert.deepEqual(parseContentRange('bytes 5-5/*'), { start: 5, end: 5 })
    for (const bad of [null, 'bytes 9-0/100', 'bytes 0-100/100', 'bytes */100', 'items 0-1/2', 'bytes 0-1/2 x']) {
      assert.equal(parseContentRange(bad), undefined, String(bad))
    }
  })
})

describe('leaf assembler and range plan', () => {
  async function leaves (file: Uint8Array, sizes: number[]): Promise<Array<{ offset: number, group: { cid: CID, size: number, offsets: number[] } }>> {
    const out = []
    let offset = 0
    for (const size of sizes) {
      const bytes = file.subarray(offset, offset + size)
      out.push({ offset, group: { cid: CID.createV1(raw.code, await sha256.digest(bytes)), size, offsets: [offset] } })
      offset += size
    }
    return out
  }

  it('completes each wanted leaf exactly once, from parts in any order, and drops bytes that leave a gap', async () => {
    const file = randomBytes(4000, 11)
    const pieces = await leaves(file, [1000, 500, 1500, 1000])
    const wanted = [pieces[0]!, pieces[2]!, pieces[3]!]
    await fc.assert(fc.asyncProperty(fc.array(fc.nat(3999), { maxLength: 12 }), fc.boolean(), async (cuts, reversed) => {
      const assembler = createLeafAssembler(wanted)
      const edges = [0, ...new Set(cuts.filter(c => c > 0))].sort((a, b) => a - b)
      let parts: RangeBytes[] = edges.map((start, i) => ({ offset: start, bytes: file.subarray(start, edges[i + 1] ?? 4000) }))
      if (reversed) parts = parts.reverse()
      const done = new Map<number, Uint8Array>()
      for (const part of parts) {
        for (const { group, bytes } of assembler.push(part)) {
          assert.ok(!done.has(group.offsets[0]!), 'each leaf completes once')
          done.set(group.offsets[0]!, Uint8Array.from(bytes))
        }
      }
      for (const [offset, bytes] of done) assert.deepEqual(bytes, file.subarray(offset, offset + bytes.byteLength))
      // in file order every wanted leaf completes; in reverse only those a single part covers
      if (!reversed) assert.equal(done.size, 3)
    }))
  })

  it('asks for adjacent leaves in one range, and splits by ranges and bytes per request', async () => {
    const file = randomBytes(10_000, 5)
    const all = await leaves(file, Array(10).fill(1000))
    const groups = [0, 1, 2, 5, 7, 8].map(i => all[i]!.group)
    assert.deepEqual(planRangeBatches(groups).map(b => b.ranges), [[{ start: 0, end: 2999 }, { start: 5000, end: 5999 }, { start: 7000, end: 8999 }]])
    assert.deepEqual(planRangeBatches(groups, 2).map(b => b.ranges.length), [2, 1])
    assert.deepEqual(planRangeBatches(groups, 64, 2000).map(b => b.bytes), [2000, 2000, 2000])
  })
})
