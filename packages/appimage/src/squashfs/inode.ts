import { CorruptSquashfsError } from '../errors.ts'
import type { AbortOptions } from '../types.ts'
import type { MetadataStore } from './metadata.ts'
import type { Superblock } from './superblock.ts'

export type EntryType = 'directory' | 'file' | 'symlink' | 'block-device' | 'char-device' | 'fifo' | 'socket'

const TYPES: EntryType[] = ['directory', 'file', 'symlink', 'block-device', 'char-device', 'fifo', 'socket']

export const NO_FRAGMENT = 0xffffffff
export const BLOCK_UNCOMPRESSED = 1 << 24
export const BLOCK_SIZE_MASK = BLOCK_UNCOMPRESSED - 1

interface InodeBase {
  ref: bigint
  type: EntryType
  extended: boolean
  mode: number
  uidIndex: number
  gidIndex: number
  mtime: number
  number: number
  linkCount: number
}

export interface DirectoryInode extends InodeBase {
  type: 'directory'
  /** position of the listing's first metadata block, relative to the directory table */
  blockStart: number
  blockOffset: number
  /** listing size in bytes as stored (the real listing is 3 bytes shorter) */
  fileSize: number
  parent: number
}

export interface FileInode extends InodeBase {
  type: 'file'
  /** image-relative position of the first data block */
  blocksStart: number
  size: number
  fragment: number
  fragmentOffset: number
  /** on-disk size words of each full data block (bit 24 = stored uncompressed, 0 = sparse) */
  blockSizes: Uint32Array
}

export interface SymlinkInode extends InodeBase {
  type: 'symlink'
  target: string
}

export interface OtherInode extends InodeBase {
  type: 'block-device' | 'char-device' | 'fifo' | 'socket'
}

export type Inode = DirectoryInode | FileInode | SymlinkInode | OtherInode

const decoder = new TextDecoder()

function view (b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength)
}

/** Reads the inode at `ref` (block position << 16 | offset within the block) */
export async function readInode (store: MetadataStore, sb: Superblock, ref: bigint, options?: AbortOptions): Promise<Inode> {
  const blockPos = Number(ref >> 16n)
  const offset = Number(ref & 0xffffn)
  if (ref < 0n || ref >= 1n << 48n || sb.inodeTableStart + blockPos >= sb.directoryTableStart || offset >= 8192) {
    throw new CorruptSquashfsError(`inode reference 0x${ref.toString(16)} points outside the inode table`)
  }
  const cursor = store.cursor(sb.inodeTableStart + blockPos, offset)
  const h = view(await cursor.read(16, options))
  const rawType = h.getUint16(0, true)
  if (rawType < 1 || rawType > 14) {
    throw new CorruptSquashfsError(`inode 0x${ref.toString(16)} has unknown type ${rawType}`)
  }
  const extended = rawType > 7
  const type = TYPES[(rawType - 1) % 7]!
  const base: InodeBase = {
    ref,
    type,
    extended,
    mode: h.getUint16(2, true),
    uidIndex: h.getUint16(4, true),
    gidIndex: h.getUint16(6, true),
    mtime: h.getUint32(8, true),
    number: h.getUint32(12, true),
    linkCount: 1
  }
  if (type === 'directory') {
    if (!extended) {
      const v = view(await cursor.read(16, options))
      return { ...base, type, blockStart: v.getUint32(0, true), linkCount: v.getUint32(4, true), fileSize: v.getUint16(8, true), blockOffset: v.getUint16(10, true), parent: v.getUint32(12, true) }
    }
    const v = view(await cursor.read(24, options))
    // the directory index that follows only speeds up lookups; it is skipped
    return { ...base, type, linkCount: v.getUint32(0, true), fileSize: v.getUint32(4, true), blockStart: v.getUint32(8, true), parent: v.getUint32(12, true), blockOffset: v.getUint16(18, true) }
  }
  if (type === 'file') {
    let blocksStart: number, size: number, fragment: number, fragmentOffset: number
    let linkCount = 1
    if (!extended) {
      const v = view(await cursor.read(16, options))
      blocksStart = v.getUint32(0, true)
      fragment = v.getUint32(4, true)
      fragmentOffset = v.getUint32(8, true)
      size = v.getUint32(12, true)
    } else {
      const v = view(await cursor.read(40, options))
      const start = v.getBigUint64(0, true)
      const big = v.getBigUint64(8, true)
      if (start > BigInt(sb.bytesUsed) || big > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new CorruptSquashfsError(`file inode 0x${ref.toString(16)} has impossible start ${start} or size ${big}`)
      }
      blocksStart = Number(start)
      size = Number(big)
      linkCount = v.getUint32(24, true)
      fragment = v.getUint32(28, true)
      fragmentOffset = v.getUint32(32, true)
    }
    const hasFragment = fragment !== NO_FRAGMENT
    if (hasFragment && fragment >= sb.fragmentCount) {
      throw new CorruptSquashfsError(`file inode 0x${ref.toString(16)} uses fragment ${fragment} of ${sb.fragmentCount}`)
    }
    if (hasFragment && (fragmentOffset >= sb.blockSize || fragmentOffset + (size % sb.blockSize) > sb.blockSize)) {
      throw new CorruptSquashfsError(`file inode 0x${ref.toString(16)} has its tail outside its fragment block`)
    }
    const count = hasFragment ? Math.floor(size / sb.blockSize) : Math.ceil(size / sb.blockSize)
    // the list of block sizes lives in the inode table; it cannot be longer than that table can hold
    const tableRoom = ((sb.directoryTableStart - sb.inodeTableStart) / 3 + 1) * 8192
    if (count * 4 > tableRoom || blocksStart > sb.bytesUsed) {
      throw new CorruptSquashfsError(`file inode 0x${ref.toString(16)} claims ${count} blocks (size ${size}), more than the inode table can describe`)
    }
    // read in steps so that a forged count fails on missing metadata before it costs memory
    const words: number[] = []
    while (words.length < count) {
      const n = Math.min(2048, count - words.length)
      const lv = view(await cursor.read(n * 4, options))
      for (let i = 0; i < n; i++) words.push(lv.getUint32(i * 4, true))
    }
    const blockSizes = Uint32Array.from(words)
    return { ...base, type, linkCount, blocksStart, size, fragment, fragmentOffset, blockSizes }
  }
  if (type === 'symlink') {
    const v = view(await cursor.read(8, options))
    const length = v.getUint32(4, true)
    if (length > 4096) {
      throw new CorruptSquashfsError(`symlink inode 0x${ref.toString(16)} has a ${length}-byte target; PATH_MAX is 4096`)
    }
    const target = decoder.decode(await cursor.read(length, options))
    return { ...base, type, linkCount: v.getUint32(0, true), target }
  }
  const v = view(await cursor.read(4, options))
  return { ...base, type, linkCount: v.getUint32(0, true) }
}

export function isRegular (inode: Inode): inode is FileInode {
  return inode.type === 'file'
}
