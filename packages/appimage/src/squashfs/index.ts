import type { RandomAccessReader } from '../reader.ts'
import type { AbortOptions } from '../types.ts'
import { type Squashfs, SquashfsImage } from './filesystem.ts'

export type { ReadFileOptions, Squashfs, SquashfsBlockMap, SquashfsEntry } from './filesystem.ts'
export type { CompressorName } from './decompress.ts'
export type { EntryType } from './inode.ts'
export type { Superblock } from './superblock.ts'

/** Opens the SquashFS image that starts `offset` bytes into the reader's file */
export async function openSquashfs (reader: RandomAccessReader, offset = 0, options?: AbortOptions): Promise<Squashfs> {
  return await SquashfsImage.open(reader, offset, options)
}
