/** Content-defined chunking (FastCDC, Xia et al. 2016, with normalized chunking level 2) */

import { concat } from './bytes.ts'

export interface FastCdcOptions {
  /** default 16 KiB */
  minSize?: number
  /** default 64 KiB; rounded to a power of two */
  avgSize?: number
  /** default 256 KiB */
  maxSize?: number
}

/** 256 pseudo-random 32-bit values; fixed (seeded) so that chunk boundaries are the same everywhere */
const GEAR = (() => {
  const table = new Uint32Array(256)
  let state = 0x9e3779b9
  for (let i = 0; i < 256; i++) {
    // splitmix32
    state = (state + 0x9e3779b9) >>> 0
    let z = state
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    table[i] = (z ^ (z >>> 16)) >>> 0
  }
  return table
})()

function topMask (bits: number): number {
  // the top bits of a 32-bit gear hash depend on the last 32 bytes, the bottom ones on fewer
  return bits <= 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
}

export interface FastCdcParams {
  minSize: number
  avgSize: number
  maxSize: number
  maskS: number
  maskL: number
}

export function fastCdcParams (options: FastCdcOptions = {}): FastCdcParams {
  const avgBits = Math.round(Math.log2(options.avgSize ?? 65536))
  const avgSize = 2 ** avgBits
  const minSize = options.minSize ?? Math.max(64, avgSize / 4)
  const maxSize = options.maxSize ?? avgSize * 4
  if (!(minSize > 0 && minSize <= avgSize && avgSize <= maxSize)) {
    throw new RangeError(`FastCDC needs 0 < minSize <= avgSize <= maxSize, got ${minSize}/${avgSize}/${maxSize}`)
  }
  return { minSize, avgSize, maxSize, maskS: topMask(avgBits + 2), maskL: topMask(avgBits - 2) }
}

/** Length of the next chunk of `data[start, end)` (the rest of the data when it is no longer than minSize) */
export function fastCdcCut (data: Uint8Array, start: number, end: number, p: FastCdcParams): number {
  let n = end - start
  if (n <= p.minSize) return n
  if (n > p.maxSize) n = p.maxSize
  const normal = Math.min(n, p.avgSize)
  let fp = 0
  let i = p.minSize
  for (; i < normal; i++) {
    fp = ((fp << 1) + GEAR[data[start + i]!]!) >>> 0
    if ((fp & p.maskS) === 0) return i + 1
  }
  for (; i < n; i++) {
    fp = ((fp << 1) + GEAR[data[start + i]!]!) >>> 0
    if ((fp & p.maskL) === 0) return i + 1
  }
  return n
}


/** A streaming FastCDC chunker: `(source) => chunks`, the shape Helia's UnixFS importer takes */
export function fastCdc (options?: FastCdcOptions): (source: AsyncIterable<Uint8Array>) => AsyncGenerator<Uint8Array> {
  const p = fastCdcParams(options)
  return async function * fastCdcChunker (source) {
    let buffer: Uint8Array = new Uint8Array(0)
    let parts: Uint8Array[] = []
    let length = 0
    for await (const input of source) {
      parts.push(input)
      length += input.byteLength
      if (length < p.maxSize) continue
      buffer = concat(parts, length)
      let at = 0
      while (buffer.byteLength - at >= p.maxSize) {
        const n = fastCdcCut(buffer, at, buffer.byteLength, p)
        yield buffer.slice(at, at + n)
        at += n
      }
      const rest = buffer.subarray(at)
      parts = rest.byteLength > 0 ? [rest] : []
      length = rest.byteLength
    }
    buffer = concat(parts, length)
    let at = 0
    while (at < buffer.byteLength) {
      const n = fastCdcCut(buffer, at, buffer.byteLength, p)
      yield buffer.slice(at, at + n)
      at += n
    }
  }
}
