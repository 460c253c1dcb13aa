import type { RandomAccessReader } from '../reader.ts'
import type { AbortOptions } from '../types.ts'

/** Largest block inside a zstd frame (RFC 8878 3.1.1.2.3): a frame of more input holds several */
export const ZSTD_MAX_BLOCK_SIZE = 128 * 1024

const MAGIC = 0xfd2fb528
const DICTIONARY_ID_SIZES = [0, 1, 2, 4] as const
const CONTENT_SIZE_SIZES = [0, 2, 4, 8] as const

/**
 * Where the blocks of the zstd frame stored at `[offset, offset + length)` start, after the first
 * (RFC 8878: a frame header, then blocks of up to 128 KiB of input, each with a 3-byte header).
 * Reads the headers only. Anything that is not one whole frame filling the range gives `[]`:
 * the caller then keeps the range in one piece, so a foreign or damaged block changes nothing.
 */
export async function zstdBlockStarts (reader: RandomAccessReader, offset: number, length: number, options?: AbortOptions): Promise<number[]> {
  const end = offset + length
  if (length < 9 || end > reader.size) return []
  const head = await reader.read(offset, Math.min(length, 18), options)
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength)
  if (view.getUint32(0, true) !== MAGIC) return []
  const descriptor = head[4]!
  const singleSegment = (descriptor >> 5) & 1
  const contentSizeFlag = descriptor >> 6
  const hasChecksum = (descriptor >> 2) & 1
  let pos = offset + 5 + (singleSegment === 1 ? 0 : 1) + DICTIONARY_ID_SIZES[descriptor & 3]! +
    (contentSizeFlag === 0 ? singleSegment : CONTENT_SIZE_SIZES[contentSizeFlag]!)
  const starts: number[] = []
  for (;;) {
    options?.signal?.throwIfAborted()
    if (pos + 3 > end) return []
    const h = await reader.read(pos, 3, options)
    const header = h[0]! | (h[1]! << 8) | (h[2]! << 16)
    const type = (header >> 1) & 3
    if (type === 3) return []
    // an RLE block stores one byte whatever its size says
    const next = pos + 3 + (type === 1 ? 1 : header >>> 3)
    if (next > end) return []
    if ((header & 1) === 1) return next + (hasChecksum === 1 ? 4 : 0) === end ? starts : []
    starts.push(next)
    pos = next
  }
}
