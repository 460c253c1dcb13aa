import { logger } from '@libp2p/logger'
import { type AppImageSource, isSquashfsMagic, openAppImage, requireType2 } from './appimage.ts'
import { type CutRules, innerCuts } from './block-cuts.ts'
import { concat } from './bytes.ts'
import { FileChangedError } from './errors.ts'
import { type FastCdcOptions, fastCdc } from './fastcdc.ts'
import { createBytesReader, createFileReader, type RandomAccessReader } from './reader.ts'
import { openSquashfs, type Squashfs } from './squashfs/index.ts'
import type { AbortOptions } from './types.ts'

const log = logger('hubless:appimage:chunker')

/** The chunker shape of Helia's UnixFS importer (`ipfs-unixfs-importer`'s `Chunker`) */
export type Chunker = (source: AsyncIterable<Uint8Array>) => AsyncIterable<Uint8Array>

export const DEFAULT_MAX_CHUNK_SIZE = 1024 * 1024

/**
 * The version of the cutting rules publish and update use (see `cuts`). The cuts decide the
 * CIDs: the same file added by hubless versions with different chunker versions has different
 * CIDs, so files are compared by SHA-256 and size, never by CID.
 */
export const CHUNKER_VERSION = 5

/**
 * The rules of {@link CHUNKER_VERSION}: version 3's cuts, and content-defined ones inside the
 * compressed zstd blocks of fragment blocks in images with blocks over 128 KiB (under
 * `@hubless/net`'s DAG layout 2)
 */
export const DEFAULT_CUT_RULES: CutRules = 'fragments'

export interface ChunkPlan {
  /** `squashfs`: cuts at the image's block boundaries; `fastcdc`: the image could not be parsed */
  kind: 'squashfs' | 'fastcdc'
  /** {@link CHUNKER_VERSION} for the default rules; 1 to 4 for the older ones a benchmark asked for */
  version: number
  /** the file size the plan was made for */
  size: number
  /** where each chunk ends (ascending, the last is `size`); squashfs plans only */
  cuts?: number[]
  /** number of chunks; squashfs plans only (content-defined chunks are known only after reading) */
  chunkCount?: number
  maxChunkSize: number
  /** bytes of runtime before the SquashFS image */
  runtimeSize?: number
  /** why the plan fell back to FastCDC */
  reason?: string
}

export interface ChunkPlanOptions extends AbortOptions {
  /** largest chunk; UnixFS and bitswap limit block sizes (default 1 MiB) */
  maxChunkSize?: number
  /** FastCDC settings for files that are not parseable AppImages */
  fallback?: FastCdcOptions
  /**
   * Which cuts inside compressed blocks (default `'fragments'`, the rules publish and update
   * use, chunker version 5): `'squashfs'` cuts at the image's blocks only (version 1); `'zstd'`
   * also cuts zstd blocks of images with blocks over 128 KiB at their frames' blocks (version 2);
   * `'stored'` cuts zstd frames of any block size at their blocks, leaving pieces of at least
   * 8 KiB, and content-defined (1/2/8 KiB) inside bytes the image stores as they are:
   * uncompressed data and fragment blocks, raw zstd blocks and the raw literals of compressed
   * ones (version 3); `'compressed'` is version 3 and content-defined 8/16/64 KiB pieces inside
   * every compressed zstd block of images with blocks over 128 KiB (version 4); `'fragments'`
   * cuts those pieces inside fragment blocks only (version 5): fragment blocks pack the small
   * files, which change most between versions, and data blocks make up most of an image.
   * Changing it changes the CIDs of an image: only benchmarks and tests pass it, to compare.
   */
  cuts?: CutRules
}

/** A Chunker that also tells how it will cut */
export interface SquashfsChunker extends Chunker {
  readonly plan: ChunkPlan
}

/** Errors meaning "not an image we can map"; anything else (I/O, abort) is passed on */
const FALLBACK_ERRORS = new Set(['NotAnAppImageError', 'TruncatedFileError', 'CorruptElfError', 'CorruptSquashfsError', 'UnsupportedCompressorError', 'DecompressionBombError', 'DecompressionError', 'UnsupportedAppImageTypeError'])

const RULE_VERSIONS = { squashfs: 1, zstd: 2, stored: 3, compressed: 4, fragments: CHUNKER_VERSION } as const

const RUNTIME_SECTIONS = new Set(['.upd_info', '.sha256_sig', '.sig_key', '.digest_md5'])

/** Adds cuts so that no chunk is longer than `max`; pieces start at the block, so equal blocks split equally */
export function capChunks (boundaries: number[], size: number, max: number): number[] {
  const sorted = [...new Set(boundaries)].filter(b => b > 0 && b < size).sort((a, b) => a - b)
  sorted.push(size)
  const cuts: number[] = []
  let prev = 0
  for (const b of sorted) {
    while (b - prev > max) {
      prev += max
      cuts.push(prev)
    }
    cuts.push(b)
    prev = b
  }
  return cuts
}

/** Where the image's blocks start and end, and the cuts the rules add inside them */
async function imageBoundaries (fs: Squashfs, reader: RandomAccessReader, options?: ChunkPlanOptions): Promise<number[]> {
  const map = await fs.blockMap(options)
  return [...map.boundaries, ...await innerCuts(reader, map, fs.superblock, options?.cuts ?? DEFAULT_CUT_RULES, options)]
}

async function squashfsBoundaries (reader: RandomAccessReader, options?: ChunkPlanOptions): Promise<{ boundaries: number[], runtimeSize: number }> {
  const head = await reader.read(0, Math.min(4, reader.size), options)
  if (isSquashfsMagic(head)) {
    const fs = await openSquashfs(reader, 0, options)
    return { boundaries: await imageBoundaries(fs, reader, options), runtimeSize: 0 }
  }
  const appImage = await openAppImage(reader, options)
  const fs = requireType2(appImage)
  const boundaries = [appImage.runtimeSize]
  // the signature and update sections get chunks of their own, so re-signing leaves the runtime code chunk alone
  for (const s of appImage.elf.sections) {
    if (RUNTIME_SECTIONS.has(s.name) && s.size > 0) boundaries.push(s.offset, s.offset + s.size)
  }
  boundaries.push(...await imageBoundaries(fs, reader, options))
  return { boundaries, runtimeSize: appImage.runtimeSize }
}

async function withReader<T> (source: AppImageSource, options: AbortOptions | undefined, fn: (reader: RandomAccessReader) => Promise<T>): Promise<T> {
  if (typeof source === 'string') {
    const reader = await createFileReader(source, options)
    try {
      return await fn(reader)
    } finally {
      await reader.close()
    }
  }
  return await fn(source instanceof Uint8Array ? createBytesReader(source) : source)
}

/** Works out where the squashfs-aware chunker will cut a file (reads metadata only) */
export async function planChunks (source: AppImageSource, options?: ChunkPlanOptions): Promise<ChunkPlan> {
  const maxChunkSize = options?.maxChunkSize ?? DEFAULT_MAX_CHUNK_SIZE
  if (!Number.isSafeInteger(maxChunkSize) || maxChunkSize < 1024) {
    throw new RangeError(`maxChunkSize must be an integer of at least 1024 bytes, got ${maxChunkSize}`)
  }
  const version = RULE_VERSIONS[options?.cuts ?? DEFAULT_CUT_RULES]
  return await withReader(source, options, async (reader) => {
    try {
      const { boundaries, runtimeSize } = await squashfsBoundaries(reader, options)
      const cuts = capChunks(boundaries, reader.size, maxChunkSize)
      return { kind: 'squashfs', version, size: reader.size, cuts, chunkCount: cuts.length, maxChunkSize, runtimeSize }
    } catch (err) {
      if (!FALLBACK_ERRORS.has((err as Error).name)) throw err
      log('falling back to FastCDC: %s', (err as Error).message)
      return { kind: 'fastcdc', version, size: reader.size, maxChunkSize, reason: (err as Error).message }
    }
  })
}


/** A chunker that cuts a byte stream at precomputed offsets (and every `max` bytes past the last one) */
export function cutAt (cuts: number[], max: number): Chunker {
  return async function * plannedChunker (source) {
    let index = 0
    let start = 0
    let parts: Uint8Array[] = []
    let length = 0
    for await (const input of source) {
      let buf = input
      while (buf.byteLength > 0) {
        const next = index < cuts.length ? cuts[index]! : start + max
        const need = next - (start + length)
        if (buf.byteLength < need) {
          parts.push(buf)
          length += buf.byteLength
          break
        }
        parts.push(buf.subarray(0, need))
        length += need
        yield concat(parts, length)
        start += length
        parts = []
        length = 0
        index++
        buf = buf.subarray(need)
      }
    }
    if (length > 0) yield concat(parts, length)
  }
}

/**
 * The squashfs-aware chunker for Helia's UnixFS importer: maps the image first (random access,
 * metadata, zstd block headers and stored bytes only), then cuts the stream at every data,
 * fragment and metadata block boundary, around the runtime, inside zstd-compressed blocks at
 * their frames' blocks (pieces of at least 8 KiB), and content-defined inside bytes stored
 * uncompressed (uncompressed blocks, raw zstd blocks and literals). Files it cannot parse get
 * FastCDC instead.
 */
export async function createSquashfsChunker (source: AppImageSource, options?: ChunkPlanOptions): Promise<SquashfsChunker> {
  const plan = await planChunks(source, options)
  const chunker: Chunker = plan.kind === 'squashfs'
    ? cutAt(plan.cuts!, plan.maxChunkSize)
    : fastCdc({ ...options?.fallback, maxSize: Math.min(options?.fallback?.maxSize ?? 262144, plan.maxChunkSize) })
  return Object.assign(chunker, { plan })
}

/** Chunks read ahead of the one being handed on, by {@link readPlannedChunks} */
const CHUNKS_AHEAD = 4

/**
 * The chunks of a file whose cuts are planned, each read straight into a buffer of its own
 * size: what the planned chunker gives for the file's byte stream, without the stream's buffers
 * and the copy that joins a chunk across two of them, so that each chunk's memory can be freed
 * as soon as it is written. Give it to an importer with a chunker that passes chunks on as they are.
 */
export async function * readPlannedChunks (path: string, cuts: number[], options?: AbortOptions): AsyncGenerator<Uint8Array> {
  const reader = await createFileReader(path, options)
  try {
    if (reader.size !== (cuts.at(-1) ?? 0)) {
      throw new FileChangedError(`${path} has ${reader.size} bytes, ${cuts.at(-1) ?? 0} when its chunks were planned; plan them again`)
    }
    const ahead: Array<Promise<Uint8Array>> = []
    let next = 0
    let start = 0
    while (next < cuts.length || ahead.length > 0) {
      while (next < cuts.length && ahead.length < CHUNKS_AHEAD) {
        const end = cuts[next++]!
        const reading = reader.read(start, end - start, options)
        reading.catch(() => {})
        ahead.push(reading)
        start = end
      }
      yield await ahead.shift()!
    }
  } finally {
    await reader.close()
  }
}
