import { CorruptSquashfsError, TruncatedFileError } from '../errors.ts'
import type { RandomAccessReader } from '../reader.ts'
import type { AbortOptions } from '../types.ts'
import type { Decompressor } from './decompress.ts'
import { LruCache } from './lru.ts'

export const METADATA_SIZE = 8192

export interface MetadataBlock {
  /** uncompressed contents, at most 8 KiB */
  data: Uint8Array
  /** image-relative position of the block that follows */
  next: number
  /** bytes on disk including the 2-byte header */
  diskSize: number
}

/**
 * Reads SquashFS metadata blocks (2-byte header, up to 8 KiB of compressed payload) by their
 * image-relative position, with an LRU cache so that walking a table decompresses each block once.
 */
export class MetadataStore {
  private readonly reader: RandomAccessReader
  private readonly base: number
  private readonly end: number
  private readonly decompress: Decompressor
  private readonly cache = new LruCache<number, MetadataBlock>(512)
  private window?: { start: number, bytes: Uint8Array }

  constructor (reader: RandomAccessReader, base: number, end: number, decompress: Decompressor) {
    this.reader = reader
    this.base = base
    this.end = end
    this.decompress = decompress
  }

  /** Reads [start, end) of the image in one go, so that walking whole tables costs one read */
  async prefetch (start: number, end: number, options?: AbortOptions): Promise<void> {
    const length = Math.min(end, this.end) - start
    if (length <= 0 || length > 256 * 1024 * 1024) return
    this.window = { start, bytes: await this.reader.read(this.base + start, length, options) }
  }

  releasePrefetch (): void {
    this.window = undefined
  }

  private async raw (pos: number, length: number, options?: AbortOptions): Promise<Uint8Array> {
    if (pos < 0 || pos + length > this.end) {
      throw new CorruptSquashfsError(`a metadata block at ${pos} (${length} bytes) lies outside the SquashFS image (${this.end} bytes)`)
    }
    const w = this.window
    if (w !== undefined && pos >= w.start && pos + length <= w.start + w.bytes.byteLength) {
      return w.bytes.subarray(pos - w.start, pos - w.start + length)
    }
    try {
      return await this.reader.read(this.base + pos, length, options)
    } catch (err) {
      if ((err as Error).name === 'TruncatedFileError') {
        throw new TruncatedFileError(`a metadata block at ${pos} lies past the end of the file; the AppImage is truncated`)
      }
      throw err
    }
  }

  async block (pos: number, options?: AbortOptions): Promise<MetadataBlock> {
    const cached = this.cache.get(pos)
    if (cached !== undefined) return cached
    const header = await this.raw(pos, 2, options)
    const word = header[0]! | (header[1]! << 8)
    const size = word & 0x7fff
    const compressed = (word & 0x8000) === 0
    if (size === 0 || size > METADATA_SIZE) {
      throw new CorruptSquashfsError(`the metadata block at ${pos} declares ${size} bytes; metadata blocks hold 1 to 8192`)
    }
    const payload = await this.raw(pos + 2, size, options)
    const data = compressed ? this.decompress(payload, METADATA_SIZE) : payload.slice()
    const block: MetadataBlock = { data, next: pos + 2 + size, diskSize: 2 + size }
    this.cache.set(pos, block)
    return block
  }

  /** A cursor reading a byte stream that starts `offset` bytes into the block at `pos` */
  cursor (pos: number, offset: number): MetadataCursor {
    return new MetadataCursor(this, pos, offset)
  }
}

/** Sequential reads across metadata block boundaries */
export class MetadataCursor {
  private readonly store: MetadataStore
  private pos: number
  private offset: number

  constructor (store: MetadataStore, pos: number, offset: number) {
    this.store = store
    this.pos = pos
    this.offset = offset
  }

  async read (length: number, options?: AbortOptions): Promise<Uint8Array> {
    let block = await this.store.block(this.pos, options)
    if (this.offset > block.data.byteLength) {
      throw new CorruptSquashfsError(`a metadata reference points ${this.offset} bytes into a block of ${block.data.byteLength}`)
    }
    if (this.offset + length <= block.data.byteLength) {
      const out = block.data.subarray(this.offset, this.offset + length)
      this.offset += length
      return out
    }
    const out = new Uint8Array(length)
    let done = 0
    while (done < length) {
      if (this.offset >= block.data.byteLength) {
        this.pos = block.next
        this.offset = 0
        block = await this.store.block(this.pos, options)
      }
      const take = Math.min(length - done, block.data.byteLength - this.offset)
      out.set(block.data.subarray(this.offset, this.offset + take), done)
      done += take
      this.offset += take
    }
    return out
  }
}
