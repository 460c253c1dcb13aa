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
 * then blocks of up to 128 KiB of input, each with a 3-byte header). Reads the frame in one
 * piece (a SquashFS block, at most 1 MiB): reading only its headers took a read a block, and an
 * image has tens of thousands of them. Anything that is not one whole frame filling the range
 * gives `[]`: the caller then keeps the range in one piece, so a foreign or damaged block changes
 * nothing.
 */
export async function zstdBlocks (reader: RandomAccessReader, offset: number, length: number, options?: AbortOptions): Promise<ZstdBlock[]> {
  const end = offset + length
  if (length < 9 || end > reader.size) return []
  const frame = await reader.read(offset, length, options)
  return frameBlocks(frame, offset)
}

/** {@link zstdBlocks} of a frame in memory, whose first byte lies at `offset` in the file */
export function frameBlocks (frame: Uint8Array, offset: number): ZstdBlock[] {
  const length = frame.byteLength
  if (length < 9) return []
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  if (view.getUint32(0, true) !== MAGIC) return []
  const descriptor = frame[4]!
  const singleSegment = (descriptor >> 5) & 1
  const contentSizeFlag = descriptor >> 6
  const hasChecksum = (descriptor >> 2) & 1
  // positions within the frame; blocks are given as file offsets
  let pos = 5 + (singleSegment === 1 ? 0 : 1) + DICTIONARY_ID_SIZES[descriptor & 3]! +
    (contentSizeFlag === 0 ? singleSegment : CONTENT_SIZE_SIZES[contentSizeFlag]!)
  const blocks: ZstdBlock[] = []
  for (;;) {
    if (pos + 3 > length) return []
    const header = frame[pos]! | (frame[pos + 1]! << 8) | (frame[pos + 2]! << 16)
    const type = (header >> 1) & 3
    if (type === 3) return []
    // an RLE block stores one byte whatever its size says
    const next = pos + 3 + (type === 1 ? 1 : header >>> 3)
    if (next > length) return []
    const block: ZstdBlock = { start: offset + pos, end: offset + next, type: type === 0 ? 'raw' : type === 1 ? 'rle' : 'compressed' }
    if (type === 0) block.stored = { start: offset + pos + 3, end: offset + next }
    else if (type === 2 && next - pos > 3) block.stored = rawLiterals(frame.subarray(pos + 3, Math.min(length, pos + 6)), offset + pos + 3, offset + next)
    blocks.push(block)
    if ((header & 1) === 1) return next + (hasChecksum === 1 ? 4 : 0) === length ? blocks : []
    pos = next
  }
}
