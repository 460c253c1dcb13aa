import type { AbortOptions } from '../types.ts'
import type { EntryType } from './inode.ts'
import type { Superblock } from './superblock.ts'

/** One entry of the image, as `stat` and `readdir` report it */
export interface SquashfsEntry {
  /** path from the image root, without a leading slash (`''` for the root) */
  path: string
  name: string
  type: EntryType
  /** permission bits */
  mode: number
  uid: number
  gid: number
  /** seconds since the epoch */
  mtime: number
  inode: number
  /** bytes (files), listing size (directories), target length (symlinks) */
  size: number
  /** symlinks only */
  target?: string
}

export interface ReadFileOptions extends AbortOptions {
  /** refuse files larger than this (default 64 MiB) */
  maxSize?: number
  /** follow a symlink at the end of the path (default true) */
  followSymlinks?: boolean
}

/** Where a file's bytes are, as offsets into the whole file (runtime included) */
export interface FileExtents {
  blocks: Array<{ offset: number, length: number, sparse: boolean }>
  fragment?: { offset: number, length: number, index: number }
}

export interface SquashfsBlockMap {
  /** image start (= end of the runtime) and end (`bytes_used`), as file offsets */
  start: number
  end: number
  /** sorted, unique file offsets where a block (data, fragment, metadata, table) starts or ends */
  boundaries: number[]
  dataBlocks: number
  fragmentBlocks: number
  metadataBlocks: number
  /** file offsets and lengths of the compressed data and fragment blocks, ascending, each once (`fragment` for fragment blocks) */
  compressedBlocks: Array<{ offset: number, length: number, fragment?: true }>
  /** the same for data and fragment blocks stored uncompressed */
  storedBlocks: Array<{ offset: number, length: number }>
}

/** A read-only SquashFS 4.0 file system inside a file */
export interface Squashfs {
  readonly superblock: Superblock
  /** where the image starts in the file */
  readonly offset: number
  /** an entry without following a final symlink (unless `followSymlinks`) */
  stat (path: string, options?: ReadFileOptions): Promise<SquashfsEntry>
  readdir (path: string, options?: AbortOptions): Promise<SquashfsEntry[]>
  readlink (path: string, options?: AbortOptions): Promise<string>
  /** a whole file in memory, at most `maxSize` (64 MiB) bytes */
  readFile (path: string, options?: ReadFileOptions): Promise<Uint8Array>
  createReadStream (path: string, options?: AbortOptions): AsyncIterable<Uint8Array>
  /** every entry, depth first */
  walk (options?: AbortOptions): AsyncIterable<SquashfsEntry>
  /** where every data, fragment and metadata block starts and ends */
  blockMap (options?: AbortOptions): Promise<SquashfsBlockMap>
}
