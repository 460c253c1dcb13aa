/**
 * Cuts inside the blocks of a SquashFS image, beyond its block boundaries: at the blocks of zstd
 * frames, and content-defined inside bytes an image stores as they are. Every cut depends only
 * on the bytes of its own block, so equal blocks are cut equally wherever they lie.
 */
import { type FastCdcOptions, fastCdcCut, fastCdcParams } from './fastcdc.ts'
import type { RandomAccessReader } from './reader.ts'
import type { SquashfsBlockMap } from './squashfs/filesystem.ts'
import { frameBlocks, ZSTD_MAX_BLOCK_SIZE } from './squashfs/zstd-frame.ts'
import type { AbortOptions } from './types.ts'

/** The cutting rules of chunker versions 1 to 5 (see packages/appimage/README.md, "Chunker versions") */
export type CutRules = 'squashfs' | 'zstd' | 'stored' | 'compressed' | 'fragments'

/**
 * Content-defined cuts inside stored bytes (chunker versions 3 to 5). Smaller pieces share more
 * of a changed block, but each costs a link (~48 bytes) in the DAG; 1/2/8 KiB measured best on
 * the VLC pair of `scripts/bench/update-delta.ts` under the balanced DAG (4 and 16 KiB averages
 * fetched more). Under the content-defined DAG 512 B/1/4 KiB fetched 0.04% less at 128 KiB
 * blocks, not worth it: an image of incompressible files (stored as they are) would take a link
 * for every KiB, 5% of its size in DAG nodes to download.
 */
export const STORED_CDC: Readonly<Required<FastCdcOptions>> = Object.freeze({ minSize: 1024, avgSize: 2048, maxSize: 8192 })

/**
 * Content-defined cuts inside the entropy-coded bytes of compressed zstd blocks, in images with
 * blocks over 128 KiB (version 4). Their zstd blocks hold up to 128 KiB; a change late in one
 * left its unchanged start to be fetched again, where zsync's 2 KiB blocks shared it. 8/16/64
 * KiB took the VLC pair at 1 MiB blocks from 1.0115x to 0.995x zsync's bytes (with the
 * content-defined DAG; 4/12/48 did nearly as well, 12/24/96 and 16/32/128 saved little); at 128 KiB
 * blocks the same cuts fetched more (1.0029x against 1.0021x), so smaller images go without.
 * Version 4 cut them in every compressed block, seven times the blocks of a 1 MiB image, which
 * took adding one to 0.17x `ipfs-cid`'s throughput; version 5 cuts them in fragment blocks only
 * (the small files, which change most): 0.998x zsync's bytes, for 44% more blocks than version 3
 * on the VLC pair and 1% more on the add bench's image.
 */
export const COMPRESSED_CDC: Readonly<Required<FastCdcOptions>> = Object.freeze({ minSize: 8192, avgSize: 16384, maxSize: 65536 })

/** How much of a range is read at once while cutting it */
const READ_SIZE = 1024 * 1024

/** Reads `length` bytes at `at` of the file */
type ReadAt = (at: number, length: number, options?: AbortOptions) => Promise<Uint8Array> | Uint8Array

/** Content-defined cuts strictly inside `[start, end)` of the file */
async function cdcCuts (read: ReadAt, range: { start: number, end: number }, params: Required<FastCdcOptions>, options?: AbortOptions): Promise<number[]> {
  const { start, end } = range
  const p = fastCdcParams(params)
  const cuts: number[] = []
  let at = start
  while (end - at > p.minSize) {
    // whole pieces only: a window ends at the range's end or holds at least one largest piece
    const windowEnd = Math.min(end, at + Math.max(READ_SIZE, p.maxSize))
    const bytes = await read(at, windowEnd - at, options)
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
 * every one; from version 3: whatever the block size, where the piece since the frame's start
 * or the last such cut has {@link MIN_ZSTD_PIECE} bytes), from version 3 content-defined inside
 * stored bytes ({@link STORED_CDC}), and in images with blocks over 128 KiB also inside compressed
 * zstd blocks ({@link COMPRESSED_CDC}): of every block in version 4, of fragment blocks in 5.
 */
export async function innerCuts (reader: RandomAccessReader, map: SquashfsBlockMap, image: { compressor: string, blockSize: number }, rules: CutRules, options?: AbortOptions): Promise<number[]> {
  const cuts: number[] = []
  if (rules === 'squashfs') return cuts
  const fine = rules === 'stored' || rules === 'compressed' || rules === 'fragments'
  const large = image.blockSize > ZSTD_MAX_BLOCK_SIZE
  const fromReader: ReadAt = async (at, length, opts) => reader.read(at, length, opts)
  if (image.compressor === 'zstd') {
    for (const { offset, length, fragment } of map.compressedBlocks) {
      options?.signal?.throwIfAborted()
      const cdcInside = large && (rules === 'compressed' || (rules === 'fragments' && fragment === true))
      if (length < 9 || offset + length > reader.size) continue
      // the whole SquashFS block in one read: its zstd headers and stored bytes are cut from memory
      const frame = await reader.read(offset, length, options)
      const fromFrame: ReadAt = (at, n) => frame.subarray(at - offset, at - offset + n)
      let last = offset
      for (const [i, block] of frameBlocks(frame, offset).entries()) {
        if (i > 0 && (fine ? block.start - last >= MIN_ZSTD_PIECE : large)) {
          cuts.push(block.start)
          last = block.start
        }
        if (fine && block.stored !== undefined) cuts.push(...await cdcCuts(fromFrame, block.stored, STORED_CDC, options))
        // the entropy-coded rest of the block: after its raw literals, or all of it
        if (cdcInside && block.type === 'compressed') {
          cuts.push(...await cdcCuts(fromFrame, { start: block.stored?.end ?? block.start, end: block.end }, COMPRESSED_CDC, options))
        }
      }
    }
  }
  if (fine) {
    for (const { offset, length } of map.storedBlocks) cuts.push(...await cdcCuts(fromReader, { start: offset, end: offset + length }, STORED_CDC, options))
  }
  return cuts
}
