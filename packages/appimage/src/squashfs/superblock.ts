import { CorruptSquashfsError, TruncatedFileError } from '../errors.ts'
import { type CompressorName, compressorName } from './decompress.ts'

export const SUPERBLOCK_SIZE = 96
export const SQUASHFS_MAGIC = 0x73717368
export const NO_TABLE = 0xffffffffffffffffn

export const FLAGS = {
  UNCOMPRESSED_INODES: 0x0001,
  UNCOMPRESSED_DATA: 0x0002,
  UNCOMPRESSED_FRAGMENTS: 0x0008,
  NO_FRAGMENTS: 0x0010,
  ALWAYS_FRAGMENTS: 0x0020,
  DUPLICATES: 0x0040,
  EXPORTABLE: 0x0080,
  UNCOMPRESSED_XATTRS: 0x0100,
  NO_XATTRS: 0x0200,
  COMPRESSOR_OPTIONS: 0x0400,
  UNCOMPRESSED_IDS: 0x0800
} as const

/** A SquashFS 4.0 superblock; table offsets are relative to the start of the SquashFS image */
export interface Superblock {
  inodeCount: number
  modificationTime: number
  blockSize: number
  fragmentCount: number
  compressionId: number
  compressor: CompressorName | 'unknown'
  blockLog: number
  flags: number
  idCount: number
  rootInode: bigint
  bytesUsed: number
  idTableStart: number
  /** undefined when the image has no such table (all ones on disk) */
  xattrIdTableStart?: number
  inodeTableStart: number
  directoryTableStart: number
  fragmentTableStart?: number
  exportTableStart?: number
}

function table (view: DataView, at: number): number | undefined {
  const v = view.getBigUint64(at, true)
  return v === NO_TABLE ? undefined : checkedOffset(v)
}

function checkedOffset (v: bigint): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new CorruptSquashfsError(`SquashFS offset ${v} is impossibly large`)
  }
  return Number(v)
}

/** Parses and sanity-checks the superblock; `available` is the number of bytes from its start to the end of the file */
export function parseSuperblock (bytes: Uint8Array, available: number): Superblock {
  if (bytes.byteLength < SUPERBLOCK_SIZE) {
    throw new TruncatedFileError(`a SquashFS superblock needs ${SUPERBLOCK_SIZE} bytes, only ${bytes.byteLength} are there`)
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, SUPERBLOCK_SIZE)
  const magic = view.getUint32(0, true)
  if (magic !== SQUASHFS_MAGIC) {
    throw new CorruptSquashfsError(`no SquashFS magic (hsqs) where the runtime ends (found 0x${magic.toString(16)})`)
  }
  const major = view.getUint16(28, true)
  const minor = view.getUint16(30, true)
  if (major !== 4 || minor !== 0) {
    throw new CorruptSquashfsError(`SquashFS version ${major}.${minor} is not supported (4.0 is)`)
  }
  const blockSize = view.getUint32(12, true)
  const blockLog = view.getUint16(22, true)
  if (blockSize < 4096 || blockSize > 1 << 20 || 1 << blockLog !== blockSize) {
    throw new CorruptSquashfsError(`SquashFS block size ${blockSize} (log ${blockLog}) is not a power of two between 4 KiB and 1 MiB`)
  }
  const sb: Superblock = {
    inodeCount: view.getUint32(4, true),
    modificationTime: view.getUint32(8, true),
    blockSize,
    fragmentCount: view.getUint32(16, true),
    compressionId: view.getUint16(20, true),
    compressor: compressorName(view.getUint16(20, true)) ?? 'unknown',
    blockLog,
    flags: view.getUint16(24, true),
    idCount: view.getUint16(26, true),
    rootInode: view.getBigUint64(32, true),
    bytesUsed: checkedOffset(view.getBigUint64(40, true)),
    idTableStart: checkedOffset(view.getBigUint64(48, true)),
    inodeTableStart: checkedOffset(view.getBigUint64(64, true)),
    directoryTableStart: checkedOffset(view.getBigUint64(72, true))
  }
  const xattr = table(view, 56)
  if (xattr !== undefined) sb.xattrIdTableStart = xattr
  const fragments = table(view, 80)
  if (fragments !== undefined) sb.fragmentTableStart = fragments
  const exports = table(view, 88)
  if (exports !== undefined) sb.exportTableStart = exports

  if (sb.bytesUsed > available) {
    throw new TruncatedFileError(`the SquashFS image declares ${sb.bytesUsed} bytes but only ${available} follow the runtime; the file is truncated`)
  }
  for (const [name, at] of [['inode', sb.inodeTableStart], ['directory', sb.directoryTableStart], ['id', sb.idTableStart], ['fragment', sb.fragmentTableStart], ['export', sb.exportTableStart], ['xattr', sb.xattrIdTableStart]] as const) {
    if (at !== undefined && (at < SUPERBLOCK_SIZE || at > sb.bytesUsed)) {
      throw new CorruptSquashfsError(`the SquashFS ${name} table starts at ${at}, outside the image (${sb.bytesUsed} bytes)`)
    }
  }
  if (sb.directoryTableStart < sb.inodeTableStart) {
    throw new CorruptSquashfsError('the SquashFS directory table starts before the inode table')
  }
  // each inode takes at least 16 bytes of (uncompressed) metadata; metadata compresses at most ~1000:1
  if (sb.inodeCount === 0 || sb.inodeCount > (sb.directoryTableStart - sb.inodeTableStart) * 1024) {
    throw new CorruptSquashfsError(`the SquashFS image claims ${sb.inodeCount} inodes, impossible for an inode table of ${sb.directoryTableStart - sb.inodeTableStart} bytes`)
  }
  return sb
}
