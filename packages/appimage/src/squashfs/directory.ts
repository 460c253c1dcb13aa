import { CorruptSquashfsError } from '../errors.ts'
import type { AbortOptions } from '../types.ts'
import type { DirectoryInode } from './inode.ts'
import type { MetadataStore } from './metadata.ts'
import type { Superblock } from './superblock.ts'

export interface DirectoryEntry {
  name: string
  /** inode reference: metadata block position (relative to the inode table) << 16 | offset */
  ref: bigint
  inodeNumber: number
  /** basic inode type of the entry (1 directory, 2 file, 3 symlink, 4-7 special) */
  rawType: number
}

const MAX_LISTING = 16 * 1024 * 1024
const decoder = new TextDecoder()

/** Reads and parses a directory's listing from the directory table */
export async function readDirectory (store: MetadataStore, sb: Superblock, dir: DirectoryInode, options?: AbortOptions): Promise<DirectoryEntry[]> {
  if (dir.fileSize <= 3) return []
  const length = dir.fileSize - 3
  if (length > MAX_LISTING || sb.directoryTableStart + dir.blockStart >= sb.bytesUsed || dir.blockOffset >= 8192) {
    throw new CorruptSquashfsError(`directory inode ${dir.number} has a listing of ${length} bytes at ${dir.blockStart}:${dir.blockOffset}, outside the directory table`)
  }
  const bytes = await store.cursor(sb.directoryTableStart + dir.blockStart, dir.blockOffset).read(length, options)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const entries: DirectoryEntry[] = []
  let at = 0
  while (at < length) {
    if (at + 12 > length) {
      throw new CorruptSquashfsError(`directory inode ${dir.number}: listing ends inside a header`)
    }
    const count = view.getUint32(at, true) + 1
    const start = view.getUint32(at + 4, true)
    const baseInode = view.getUint32(at + 8, true)
    at += 12
    if (count > 256) {
      throw new CorruptSquashfsError(`directory inode ${dir.number}: a header announces ${count} entries; at most 256 follow a header`)
    }
    for (let i = 0; i < count; i++) {
      if (at + 8 > length) {
        throw new CorruptSquashfsError(`directory inode ${dir.number}: listing ends inside an entry`)
      }
      const offset = view.getUint16(at, true)
      const delta = view.getInt16(at + 2, true)
      const rawType = view.getUint16(at + 4, true)
      const nameSize = view.getUint16(at + 6, true) + 1
      at += 8
      if (at + nameSize > length) {
        throw new CorruptSquashfsError(`directory inode ${dir.number}: an entry name runs past the listing`)
      }
      const name = decoder.decode(bytes.subarray(at, at + nameSize))
      at += nameSize
      if (name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
        throw new CorruptSquashfsError(`directory inode ${dir.number} holds the invalid name ${JSON.stringify(name)}`)
      }
      entries.push({ name, ref: (BigInt(start) << 16n) | BigInt(offset), inodeNumber: baseInode + delta, rawType })
    }
  }
  return entries
}
