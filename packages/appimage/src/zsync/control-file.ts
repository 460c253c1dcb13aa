import { createHash } from 'node:crypto'
import { CustomProgressEvent, type ProgressEvent } from 'progress-events'
import { ZsyncInputError } from '../errors.ts'
import { md4 } from './md4.ts'
import type { RandomAccessReader } from '../reader.ts'
import type { AbortOptions } from '../types.ts'

/** The zsync version the control files declare (the format zsync 0.6.x reads) */
export const ZSYNC_VERSION = '0.6.2'

/** Bytes of a file from the start, with its size known in advance (a UnixFS file, an HTTP body with Content-Length) */
export interface ZsyncByteSource {
  size: number
  bytes: AsyncIterable<Uint8Array>
}

export interface ZsyncInit {
  /** the `Filename:` header: the name a client saves the file as */
  filename: string
  /** `URL:` headers, absolute or relative to the control file's own URL */
  urls: string[]
  /** the `MTime:` header; none when absent */
  mtime?: Date
  /** a power of two; default zsyncmake's rule ({@link zsyncParameters}) */
  blocksize?: number
}

export type ZsyncProgressEvents = ProgressEvent<'appimage:zsync:bytes', { bytes: number, total: number }>

export interface ZsyncOptions extends AbortOptions {
  onProgress?: (evt: ZsyncProgressEvents) => void
}

/** How a control file for a file of `length` bytes is laid out: zsyncmake's choices */
export interface ZsyncParameters {
  blocksize: number
  /** how many consecutive blocks must match before the client trusts a match (1 or 2) */
  seqMatches: number
  /** bytes of the weak rolling checksum stored per block (2 to 4) */
  rsumBytes: number
  /** bytes of the MD4 checksum stored per block */
  checksumBytes: number
}

/**
 * zsyncmake's parameters: blocks of 2048 bytes below 100,000,000 bytes, 4096 from there, and the
 * hash lengths of its formulas (make.c), computed the same way in double precision.
 */
export function zsyncParameters (length: number, blocksize?: number): ZsyncParameters {
  if (!Number.isSafeInteger(length) || length < 0) throw new ZsyncInputError(`${length} is not a file length`)
  const bs = blocksize ?? (length < 100_000_000 ? 2048 : 4096)
  if (!Number.isInteger(bs) || bs < 256 || bs > 1 << 24 || (bs & (bs - 1)) !== 0) {
    throw new ZsyncInputError(`block size ${bs} is not a power of two from 256 to 16 MiB`)
  }
  const seqMatches = length > bs ? 2 : 1
  const rsum = Math.ceil(((Math.log(length) + Math.log(bs)) / Math.log(2) - 8.6) / seqMatches / 8)
  const rsumBytes = Math.min(4, Math.max(2, Number.isFinite(rsum) ? rsum : 2))
  const blocks = Math.floor(length / bs)
  const checksum = Math.ceil((20 + (Math.log(length) + Math.log(1 + blocks)) / Math.log(2)) / seqMatches / 8)
  const checksum2 = Math.trunc((7.9 + (20 + Math.log(1 + blocks) / Math.log(2))) / 8)
  const checksumBytes = Math.min(16, Number.isFinite(checksum) ? Math.max(checksum, checksum2) : checksum2)
  return { blocksize: bs, seqMatches, rsumBytes, checksumBytes }
}

/**
 * A zsync control file (`.zsync`, the format of zsync 0.6.2 and AppImageUpdate) for the bytes of
 * `source`: headers, then per block the weak rolling checksum (big-endian, its last `rsumBytes`
 * bytes) and the first `checksumBytes` of its MD4, the last block padded with zeros. Reads the
 * source once, front to back, a block at a time: a file of gigabytes needs only its checksums
 * in memory (about 8 bytes per block).
 */
export async function makeZsyncControlFile (source: RandomAccessReader | ZsyncByteSource, init: ZsyncInit, options: ZsyncOptions = {}): Promise<Uint8Array> {
  const length = source.size
  const params = zsyncParameters(length, init.blocksize)
  const { blocksize, rsumBytes, checksumBytes } = params
  const headerLines: string[] = []
  const field = (name: string, value: string): void => {
    if (/[\r\n]/.test(value)) throw new ZsyncInputError(`the zsync ${name} must be one line, without line breaks`)
    headerLines.push(`${name}: ${value}\n`)
  }

  const blockCount = Math.ceil(length / blocksize)
  const perBlock = rsumBytes + checksumBytes
  const sums = new Uint8Array(blockCount * perBlock)
  const sha1 = createHash('sha1')
  const block = new Uint8Array(blocksize)
  let filled = 0
  let done = 0
  let index = 0

  const sumBlock = (bytes: Uint8Array): void => {
    let a = 0
    let b = 0
    for (let i = 0, weight = blocksize; i < blocksize; i++, weight--) {
      const c = bytes[i]!
      a += c
      b = (b + weight * c) | 0
    }
    const at = index * perBlock
    const rsum = [(a >> 8) & 0xff, a & 0xff, (b >> 8) & 0xff, b & 0xff]
    for (let i = 0; i < rsumBytes; i++) sums[at + i] = rsum[4 - rsumBytes + i]!
    sums.set(md4(bytes).subarray(0, checksumBytes), at + rsumBytes)
    index++
  }

  const take = (chunk: Uint8Array): void => {
    if (done + chunk.byteLength > length) throw new ZsyncInputError(`the source gave more than the ${length} bytes it declared`)
    sha1.update(chunk)
    done += chunk.byteLength
    let at = 0
    if (filled > 0) {
      const n = Math.min(blocksize - filled, chunk.byteLength)
      block.set(chunk.subarray(0, n), filled)
      filled += n
      at = n
      if (filled < blocksize) return
      sumBlock(block)
      filled = 0
    }
    for (; at + blocksize <= chunk.byteLength; at += blocksize) sumBlock(chunk.subarray(at, at + blocksize))
    block.set(chunk.subarray(at), 0)
    filled = chunk.byteLength - at
  }

  for await (const chunk of readAll(source, options)) {
    options.signal?.throwIfAborted()
    take(chunk)
    options.onProgress?.(new CustomProgressEvent('appimage:zsync:bytes', { bytes: done, total: length }))
  }
  if (done !== length) throw new ZsyncInputError(`the source ended after ${done} of the ${length} bytes it declared`)
  if (filled > 0) {
    block.fill(0, filled)
    sumBlock(block)
  }

  headerLines.push(`zsync: ${ZSYNC_VERSION}\n`)
  field('Filename', init.filename)
  if (init.mtime != null) field('MTime', formatMtime(init.mtime))
  field('Blocksize', String(blocksize))
  field('Length', String(length))
  field('Hash-Lengths', `${params.seqMatches},${rsumBytes},${checksumBytes}`)
  for (const url of init.urls) field('URL', url)
  field('SHA-1', sha1.digest('hex'))
  const header = new TextEncoder().encode(headerLines.join('') + '\n')
  const out = new Uint8Array(header.byteLength + sums.byteLength)
  out.set(header)
  out.set(sums, header.byteLength)
  return out
}

const READ_SIZE = 1024 * 1024

async function * readAll (source: RandomAccessReader | ZsyncByteSource, options: AbortOptions): AsyncGenerator<Uint8Array> {
  if ('bytes' in source) {
    yield * source.bytes
    return
  }
  for (let offset = 0; offset < source.size; offset += READ_SIZE) {
    yield await source.read(offset, Math.min(READ_SIZE, source.size - offset), options)
  }
}

/** strftime's `%a, %d %b %Y %H:%M:%S %z` in UTC, as zsyncmake writes it */
function formatMtime (date: Date): string {
  if (Number.isNaN(date.getTime())) throw new ZsyncInputError('the zsync MTime is not a valid date')
  return date.toUTCString().replace(/GMT$/, '+0000')
}
