/**
 * Cuts inside the blocks of a SquashFS image, beyond its block boundaries: at the blocks of zstd
 * frames, and content-defined inside bytes an image stores as they are. Every cut depends only
 * on the bytes of its own block, so equal blocks are cut equally wherever they lie.
 */
import { type FastCdcOptions, fastCdcCut, fastCdcParams } from './fastcdc.ts'
import type { RandomAccessReader } from './reader.ts'
import type { SquashfsBlockMap } from './squashfs/filesystem.ts'
import { ZSTD_MAX_BLOCK_SIZE, zstdBlocks } from './squashfs/zstd-frame.ts'
import type { AbortOptions } from './types.ts'

export type CutRules = 'squashfs' | 'zstd' | 'stored'

/**
 * Content-defined cuts inside stored bytes (chunker version 3). Smaller pieces share more of a
 * changed block, but each costs a link (~48 bytes) in the DAG, fetched again whenever its parent
 * changes; 1/2/8 KiB measured best on the VLC pair of `scripts/bench/update-delta.ts` (4 and
 * 16 KiB averages fetched more).
 */
export const STORED_CDC: Readonly<Required<FastCdcOptions>> = Object.freeze({ minSize: 1024, avgSize: 2048, maxSize: 8192 })

/** How much of a range is read at once while cutting it */
const READ_SIZE = 1024 * 1024

/** Content-defined cuts strictly inside `[start, end)` of the file */
async function cdcCuts (reader: RandomAccessReader, start: number, end: number, options?: AbortOptions): Promise<number[]> {
  const p = fastCdcParams(STORED_CDC)
  const cuts: number[] = []
  let at = start
  while (end - at > p.minSize) {
    // whole pieces only: a window ends at the range's end or holds at least one largest piece
    const windowEnd = Math.min(end, at + Math.max(READ_SIZE, p.maxSize))
    const bytes = await reader.read(at, windowEnd - at, options)
    let offset = 0
    while (windowEnd === end ? offset < bytes.byteLength : bytes.byteLength - offset >= p.maxSize) {
      const n = fastCdcCut(bytes, offset, bytes.byteLength, p)
      offset += n
      if (at + offset < end) cuts.push(at + offset)
    }
    at += offset
  }
  return cuts
}

/**
 * The smallest piece of a zstd frame a cut at one of its blocks leaves (chunker version 3).
 * mksquashfs's zstd splits even a 128 KiB input into several blocks, often of a few hundred
 * bytes; cutting at every one made five times the chunks, whose links cost more than they saved
 * (VLC pair at 128 KiB blocks: 1.0136x zsync's bytes, against 1.0071x with 8 KiB and 1.0100x
 * without cuts there; 6 and 12 KiB did worse than 8).
 */
export const MIN_ZSTD_PIECE = 8192

/**
 * The cuts `rules` add inside the blocks of `map` (the image's `compressor` and `blockSize` from
 * its superblock): at the blocks of zstd frames (version 2: in images with blocks over 128 KiB,
 * every one; version 3: whatever the block size, where the piece since the frame's start or the
 * last such cut has {@link MIN_ZSTD_PIECE} bytes), and in version 3 content-defined inside stored
 * bytes.
 */
export async function innerCuts (reader: RandomAccessReader, map: SquashfsBlockMap, image: { compressor: string, blockSize: number }, rules: CutRules, options?: AbortOptions): Promise<number[]> {
  const cuts: number[] = []
  if (rules === 'squashfs') return cuts
  if (image.compressor === 'zstd') {
    for (const { offset, length } of map.compressedBlocks) {
      const blocks = await zstdBlocks(reader, offset, length, options)
      let last = offset
      for (const [i, block] of blocks.entries()) {
        if (i > 0 && (rules === 'stored' ? block.start - last >= MIN_ZSTD_PIECE : image.blockSize > ZSTD_MAX_BLOCK_SIZE)) {
          cuts.push(block.start)
          last = block.start
        }
        if (rules === 'stored' && block.stored !== undefined) cuts.push(...await cdcCuts(reader, block.stored.start, block.stored.end, options))
      }
    }
  }
  if (rules === 'stored') {
    for (const { offset, length } of map.storedBlocks) cuts.push(...await cdcCuts(reader, offset, offset + length, options))
  }
  return cuts
}
