import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import type { Chunker } from './index.ts'

/** Cuts the stream into chunks of `chunkSize` bytes (the last one shorter). */
export function fixedSizeChunker (chunkSize: number): Chunker {
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) {
    throw new RangeError(`chunkSize must be a positive integer, got ${chunkSize}`)
  }
  return fixedSize({ chunkSize })
}
