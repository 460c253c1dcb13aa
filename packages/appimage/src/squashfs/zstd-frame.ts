import type { RandomAccessReader } from '../reader.ts'
import type { AbortOptions } from '../types.ts'

/** Largest block inside a zstd frame (RFC 8878 3.1.1.2.3): a frame of more input holds several */
export const ZSTD_MAX_BLOCK_SIZE = 128 * 1024

const MAGIC = 0xfd2fb528
const DICTIONARY_ID_SIZES = [0, 1, 2, 4] as const
const CONTENT_SIZE_SIZES = [0, 2, 4, 8] as const

/** One block of a zstd frame, as file offsets */
export interface ZstdBlock {
  /** where its 3-byte header starts */
  start: number
  end: number
  type: 'raw' | 'rle' | 'compressed'
  /**
   * bytes stored as they are (uncompressed input): the whole content of a raw block, or the
   * literals of a compressed block whose literals section is raw (RFC 8878 3.1.1.3.1.1)
   */
  stored?: { start: number, end: number }
}

/** Where the raw literals of a compressed block starting at `content` lie (the literals section's header, RFC 8878 3.1.1.3.1.1) */
function rawLiterals (head: Uint8Array, content: number, end: number): { start: number, end: number } | undefined {
  const b0 = head[0]!
  if ((b0 & 3) !== 0) return undefined
  const format = (b0 >> 2) & 3
  let headerSize: number
  let size: number
  if ((format & 1) === 0) {
    headerSize = 1
    size = b0 >> 3
  } else if (format === 1) {
    headerSize = 2
    size = (b0 >> 4) + (head[1]! << 4)
  } else {
    headerSize = 3
    size = (b0 >> 4) + (head[1]! << 4) + (head[2]! << 12)
  }
  const start = content + headerSize
  return start + size <= end ? { start, end: start + size } : undefined
}

/**
 * The blocks of the zstd frame stored at `[offset, offset + length)` (RFC 8878: a frame header,
 * then blocks of up to 128 KiB of input, each with a 3-byte header). Reads the headers only.
 * Anything that is not one whole frame filling the range gives `[]`: the caller then keeps the
 * range in one piece, so a foreign or damaged block changes nothing.
 */
export async function zstdBlocks (reader: RandomAccessReader, offset: number, length: number, options?: AbortOptions): Promise<ZstdBlock[]> {
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
  const blocks: ZstdBlock[] = []
  for (;;) {
    options?.signal?.throwIfAborted()
    if (pos + 3 > end) return []
    const h = await reader.read(pos, Math.min(6, end - pos), options)
    const header = h[0]! | (h[1]! << 8) | (h[2]! << 16)
    const type = (header >> 1) & 3
    if (type === 3) return []
    // an RLE block stores one byte whatever its size says
    const next = pos + 3 + (type === 1 ? 1 : header >>> 3)
    if (next > end) return []
    const block: ZstdBlock = { start: pos, end: next, type: type === 0 ? 'raw' : type === 1 ? 'rle' : 'compressed' }
    if (type === 0) block.stored = { start: pos + 3, end: next }
    else if (type === 2 && next - pos > 3) block.stored = rawLiterals(h.subarray(3), pos + 3, next)
    blocks.push(block)
    if ((header & 1) === 1) return next + (hasChecksum === 1 ? 4 : 0) === end ? blocks : []
    pos = next
  }
}
