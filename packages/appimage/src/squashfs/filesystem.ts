import { logger } from '@libp2p/logger'
import { CorruptSquashfsError, FileNotFoundError, FileTooLargeError, NotAFileError, SymlinkLoopError, TruncatedFileError } from '../errors.ts'
import type { RandomAccessReader } from '../reader.ts'
import type { AbortOptions } from '../types.ts'
import { createDecompressor, type Decompressor } from './decompress.ts'
import { type DirectoryEntry, readDirectory } from './directory.ts'
import { BLOCK_SIZE_MASK, BLOCK_UNCOMPRESSED, type DirectoryInode, type FileInode, type Inode, NO_FRAGMENT, readInode } from './inode.ts'
import { LruCache } from './lru.ts'
import { MetadataStore } from './metadata.ts'
import { FLAGS, parseSuperblock, SUPERBLOCK_SIZE, type Superblock } from './superblock.ts'
import { type LookupTable, readLookupEntry, readLookupIndex } from './tables.ts'
import type { FileExtents, ReadFileOptions, Squashfs, SquashfsBlockMap, SquashfsEntry } from './types.ts'

export type { FileExtents, ReadFileOptions, Squashfs, SquashfsBlockMap, SquashfsEntry } from './types.ts'

const log = logger('hubless:appimage:squashfs')
const MAX_SYMLINK_HOPS = 40

function joinPath (dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`
}

function splitPath (path: string): string[] {
  return path.split('/').filter(p => p !== '' && p !== '.')
}

/** A read-only view of a SquashFS 4.0 image that starts `offset` bytes into a file */
export class SquashfsImage implements Squashfs {
  readonly superblock: Superblock
  readonly offset: number
  private readonly reader: RandomAccessReader
  private readonly decompress: Decompressor
  private readonly store: MetadataStore
  private readonly fragmentCache = new LruCache<number, Uint8Array>(8)
  private readonly dirCache = new LruCache<bigint, DirectoryEntry[]>(128)
  private fragments?: LookupTable
  private ids?: LookupTable
  private idValues?: number[]

  private constructor (reader: RandomAccessReader, offset: number, superblock: Superblock) {
    this.reader = reader
    this.offset = offset
    this.superblock = superblock
    this.decompress = createDecompressor(superblock.compressionId)
    this.store = new MetadataStore(reader, offset, superblock.bytesUsed, this.decompress)
  }

  static async open (reader: RandomAccessReader, offset: number, options?: AbortOptions): Promise<SquashfsImage> {
    if (offset + SUPERBLOCK_SIZE > reader.size) {
      throw new TruncatedFileError(`the file ends at ${reader.size}, before a SquashFS superblock at ${offset} could end; the AppImage is truncated`)
    }
    const sb = parseSuperblock(await reader.read(offset, SUPERBLOCK_SIZE, options), reader.size - offset)
    const image = new SquashfsImage(reader, offset, sb)
    const read = async (pos: number, length: number): Promise<Uint8Array> => await reader.read(offset + pos, length, options)
    if (sb.fragmentTableStart !== undefined && sb.fragmentCount > 0) {
      image.fragments = await readLookupIndex(read, sb.fragmentTableStart, sb.fragmentCount, 16, sb.bytesUsed, 'fragment')
    } else if (sb.fragmentCount > 0) {
      throw new CorruptSquashfsError(`the image claims ${sb.fragmentCount} fragments but has no fragment table`)
    }
    image.ids = await readLookupIndex(read, sb.idTableStart, sb.idCount, 4, sb.bytesUsed, 'id')
    log('opened squashfs at %d: %s, %d-byte blocks, %d inodes', offset, sb.compressor, sb.blockSize, sb.inodeCount)
    return image
  }

  /** The uid/gid table */
  async idTable (options?: AbortOptions): Promise<number[]> {
    if (this.idValues !== undefined) return this.idValues
    const values: number[] = []
    for (let i = 0; i < this.superblock.idCount; i++) {
      const e = await readLookupEntry(this.store, this.ids!, i, 4, options)
      values.push(new DataView(e.buffer, e.byteOffset, 4).getUint32(0, true))
    }
    this.idValues = values
    return values
  }

  async inode (ref: bigint, options?: AbortOptions): Promise<Inode> {
    return await readInode(this.store, this.superblock, ref, options)
  }

  async root (options?: AbortOptions): Promise<Inode> {
    return await this.inode(this.superblock.rootInode, options)
  }

  async listing (dir: DirectoryInode, options?: AbortOptions): Promise<DirectoryEntry[]> {
    const cached = this.dirCache.get(dir.ref)
    if (cached !== undefined) return cached
    const entries = await readDirectory(this.store, this.superblock, dir, options)
    this.dirCache.set(dir.ref, entries)
    return entries
  }

  /** Resolves a path to its inode, following symlinks in the middle (and at the end if asked) */
  async resolve (path: string, follow: boolean, options?: AbortOptions): Promise<{ inode: Inode, path: string }> {
    let hops = 0
    let pending = splitPath(path)
    let stack: Array<{ inode: Inode, name: string }> = [{ inode: await this.root(options), name: '' }]
    while (pending.length > 0) {
      options?.signal?.throwIfAborted()
      const name = pending.shift()!
      if (name === '..') {
        if (stack.length > 1) stack.pop()
        continue
      }
      const current = stack[stack.length - 1]!.inode
      if (current.type !== 'directory') {
        throw new NotAFileError(`${stack.map(s => s.name).join('/')} is not a directory`)
      }
      const entry = (await this.listing(current, options)).find(e => e.name === name)
      if (entry === undefined) {
        throw new FileNotFoundError(`${joinPath(stack.slice(1).map(s => s.name).join('/'), name)} does not exist in the image`)
      }
      const inode = await this.inode(entry.ref, options)
      if (inode.type === 'symlink' && (pending.length > 0 || follow)) {
        if (++hops > MAX_SYMLINK_HOPS) {
          throw new SymlinkLoopError(`more than ${MAX_SYMLINK_HOPS} symlinks while resolving ${path}; the links loop`)
        }
        const target = splitPath(inode.target)
        if (inode.target.startsWith('/')) stack = stack.slice(0, 1)
        pending = [...target, ...pending]
        continue
      }
      stack.push({ inode, name })
    }
    return { inode: stack[stack.length - 1]!.inode, path: stack.slice(1).map(s => s.name).join('/') }
  }

  private async toEntry (inode: Inode, path: string, options?: AbortOptions): Promise<SquashfsEntry> {
    const ids = await this.idTable(options)
    const entry: SquashfsEntry = {
      path,
      name: path.split('/').pop() ?? '',
      type: inode.type,
      mode: inode.mode,
      uid: ids[inode.uidIndex] ?? 0,
      gid: ids[inode.gidIndex] ?? 0,
      mtime: inode.mtime,
      inode: inode.number,
      size: inode.type === 'file' ? inode.size : inode.type === 'directory' ? Math.max(0, inode.fileSize - 3) : inode.type === 'symlink' ? inode.target.length : 0
    }
    if (inode.type === 'symlink') entry.target = inode.target
    return entry
  }

  async stat (path: string, options?: ReadFileOptions): Promise<SquashfsEntry> {
    const { inode, path: resolved } = await this.resolve(path, options?.followSymlinks ?? false, options)
    return await this.toEntry(inode, resolved, options)
  }

  async readdir (path: string, options?: AbortOptions): Promise<SquashfsEntry[]> {
    const { inode, path: dirPath } = await this.resolve(path, true, options)
    if (inode.type !== 'directory') {
      throw new NotAFileError(`${path} is a ${inode.type}, not a directory`)
    }
    const out: SquashfsEntry[] = []
    for (const e of await this.listing(inode, options)) {
      out.push(await this.toEntry(await this.inode(e.ref, options), joinPath(dirPath, e.name), options))
    }
    return out
  }

  async readlink (path: string, options?: AbortOptions): Promise<string> {
    const { inode } = await this.resolve(path, false, options)
    if (inode.type !== 'symlink') {
      throw new NotAFileError(`${path} is a ${inode.type}, not a symlink`)
    }
    return inode.target
  }

  private async fragmentEntry (index: number, options?: AbortOptions): Promise<{ start: number, size: number }> {
    if (this.fragments === undefined) {
      throw new CorruptSquashfsError(`fragment ${index} requested from an image without fragments`)
    }
    const e = await readLookupEntry(this.store, this.fragments, index, 16, options)
    const v = new DataView(e.buffer, e.byteOffset, 16)
    const start = v.getBigUint64(0, true)
    const size = v.getUint32(8, true)
    if (start > BigInt(this.superblock.bytesUsed)) {
      throw new CorruptSquashfsError(`fragment ${index} starts at ${start}, outside the image`)
    }
    return { start: Number(start), size }
  }

  /** Reads and decodes one data or fragment block; `word` is the on-disk size word */
  private async dataBlock (pos: number, word: number, expected: number, options?: AbortOptions): Promise<Uint8Array> {
    const size = word & BLOCK_SIZE_MASK
    if (size === 0) return new Uint8Array(expected)
    if (size > this.superblock.blockSize || pos + size > this.superblock.bytesUsed) {
      throw new CorruptSquashfsError(`a data block of ${size} bytes at ${pos} is larger than the block size or lies outside the image`)
    }
    let raw: Uint8Array
    try {
      raw = await this.reader.read(this.offset + pos, size, options)
    } catch (err) {
      if ((err as Error).name === 'TruncatedFileError') throw new TruncatedFileError(`a data block at ${pos} lies past the end of the file; the AppImage is truncated`)
      throw err
    }
    const data = (word & BLOCK_UNCOMPRESSED) !== 0 ? raw : this.decompress(raw, this.superblock.blockSize)
    if (data.byteLength < expected) {
      throw new CorruptSquashfsError(`a data block at ${pos} holds ${data.byteLength} bytes, the file needs ${expected}`)
    }
    return data
  }

  private async fragmentBlock (index: number, options?: AbortOptions): Promise<Uint8Array> {
    const cached = this.fragmentCache.get(index)
    if (cached !== undefined) return cached
    const { start, size } = await this.fragmentEntry(index, options)
    const data = await this.dataBlock(start, size, 0, options)
    this.fragmentCache.set(index, data)
    return data
  }

  /** Streams a regular file's contents block by block */
  async * readFileStream (file: FileInode, options?: AbortOptions): AsyncGenerator<Uint8Array> {
    const bs = this.superblock.blockSize
    let pos = file.blocksStart
    let remaining = file.size
    for (const word of file.blockSizes) {
      options?.signal?.throwIfAborted()
      const want = Math.min(bs, remaining)
      const data = await this.dataBlock(pos, word, want, options)
      pos += word & BLOCK_SIZE_MASK
      remaining -= want
      yield data.subarray(0, want)
    }
    if (remaining > 0) {
      if (file.fragment === NO_FRAGMENT) {
        throw new CorruptSquashfsError(`file inode ${file.number} lacks ${remaining} bytes and has no fragment`)
      }
      const frag = await this.fragmentBlock(file.fragment, options)
      if (file.fragmentOffset + remaining > frag.byteLength) {
        throw new CorruptSquashfsError(`file inode ${file.number}: its tail lies outside fragment block ${file.fragment}`)
      }
      yield frag.subarray(file.fragmentOffset, file.fragmentOffset + remaining)
    }
  }

  /** Streams the file at `path` (following symlinks) block by block */
  async * createReadStream (path: string, options?: AbortOptions): AsyncGenerator<Uint8Array> {
    const { inode } = await this.resolve(path, true, options)
    if (inode.type !== 'file') {
      throw new NotAFileError(`${path} is a ${inode.type}, not a regular file`)
    }
    yield * this.readFileStream(inode, options)
  }

  async readFile (path: string, options?: ReadFileOptions): Promise<Uint8Array> {
    const { inode } = await this.resolve(path, options?.followSymlinks ?? true, options)
    if (inode.type !== 'file') {
      throw new NotAFileError(`${path} is a ${inode.type}, not a regular file`)
    }
    const max = options?.maxSize ?? 64 * 1024 * 1024
    if (inode.size > max) {
      throw new FileTooLargeError(`${path} has ${inode.size} bytes, more than the ${max} allowed; raise maxSize or stream it`)
    }
    const out = new Uint8Array(inode.size)
    let at = 0
    for await (const chunk of this.readFileStream(inode, options)) {
      out.set(chunk, at)
      at += chunk.byteLength
    }
    return out
  }

  /** Every entry of the image, depth first; directory cycles end in CorruptSquashfsError */
  async * walk (options?: AbortOptions): AsyncGenerator<SquashfsEntry & { inodeRef: bigint }> {
    const root = await this.root(options)
    if (root.type !== 'directory') {
      throw new CorruptSquashfsError(`the root inode is a ${root.type}, not a directory`)
    }
    const seen = new Set<bigint>([root.ref])
    const stack: Array<{ dir: DirectoryInode, path: string }> = [{ dir: root, path: '' }]
    let visited = 0
    while (stack.length > 0) {
      const { dir, path } = stack.pop()!
      for (const e of await this.listing(dir, options)) {
        options?.signal?.throwIfAborted()
        const inode = await this.inode(e.ref, options)
        if (inode.type === 'directory') {
          if (seen.has(inode.ref)) {
            throw new CorruptSquashfsError(`the directory tree loops: ${joinPath(path, e.name)} leads back to a directory already visited`)
          }
          seen.add(inode.ref)
          stack.push({ dir: inode, path: joinPath(path, e.name) })
        }
        if (++visited > this.superblock.inodeCount * 4 + 64) {
          throw new CorruptSquashfsError(`the directory tree has more entries than ${this.superblock.inodeCount} inodes allow`)
        }
        yield { ...(await this.toEntry(inode, joinPath(path, e.name), options)), inodeRef: inode.ref }
      }
    }
  }

  /** Where a file's blocks lie in the whole file */
  async extents (file: FileInode, options?: AbortOptions): Promise<FileExtents> {
    const out: FileExtents = { blocks: [] }
    let pos = this.offset + file.blocksStart
    for (const word of file.blockSizes) {
      const length = word & BLOCK_SIZE_MASK
      out.blocks.push({ offset: pos, length, sparse: length === 0 })
      pos += length
    }
    if (file.fragment !== NO_FRAGMENT && file.size % this.superblock.blockSize !== 0) {
      const { start, size } = await this.fragmentEntry(file.fragment, options)
      out.fragment = { offset: this.offset + start, length: size & BLOCK_SIZE_MASK, index: file.fragment }
    }
    return out
  }

  /** The block boundaries of the whole image, found through its tables (reads metadata only) */
  async blockMap (options?: AbortOptions): Promise<SquashfsBlockMap> {
    const sb = this.superblock
    const cuts = new Set<number>([0, SUPERBLOCK_SIZE, sb.bytesUsed])
    let dataBlocks = 0
    let metadataBlocks = 0
    const fragmentBlocks = sb.fragmentCount
    const compressed = new Map<number, number>()
    const fragmentStarts = new Set<number>()
    // uncompressed blocks, by the same key; a block is one or the other
    const stored = new Map<number, number>()
    const blocks = (word: number): Map<number, number> => (word & BLOCK_UNCOMPRESSED) === 0 ? compressed : stored
    const tableStarts = [sb.fragmentTableStart, sb.exportTableStart, sb.idTableStart, sb.xattrIdTableStart]
      .filter((t): t is number => t !== undefined)
    const lookupBlocks = [...(this.fragments?.blocks ?? []), ...(this.ids?.blocks ?? [])]
    // the directory table runs up to the first lookup-table block that follows it
    const dirEnd = Math.min(sb.bytesUsed, ...tableStarts.filter(t => t > sb.directoryTableStart), ...lookupBlocks.filter(t => t > sb.directoryTableStart))
    await this.store.prefetch(sb.inodeTableStart, dirEnd, options)
    try {
      for (const [start, end] of [[sb.inodeTableStart, sb.directoryTableStart], [sb.directoryTableStart, dirEnd]] as const) {
        let pos = start
        while (pos < end) {
          options?.signal?.throwIfAborted()
          cuts.add(pos)
          pos = (await this.store.block(pos, options)).next
          metadataBlocks++
        }
        cuts.add(pos)
      }
      if ((sb.flags & FLAGS.COMPRESSOR_OPTIONS) !== 0) {
        cuts.add((await this.store.block(SUPERBLOCK_SIZE, options)).next)
      }
      for (const t of tableStarts) cuts.add(t)
      for (const pos of lookupBlocks) {
        cuts.add(pos)
        cuts.add((await this.store.block(pos, options)).next)
        metadataBlocks++
      }
      if (this.fragments !== undefined) cuts.add(this.fragments.indexStart + this.fragments.indexLength)
      if (this.ids !== undefined) cuts.add(this.ids.indexStart + this.ids.indexLength)
      for (let i = 0; i < sb.fragmentCount; i++) {
        const { start, size } = await this.fragmentEntry(i, options)
        cuts.add(start)
        cuts.add(start + (size & BLOCK_SIZE_MASK))
        if ((size & BLOCK_SIZE_MASK) > 0) blocks(size).set(start, size & BLOCK_SIZE_MASK)
        fragmentStarts.add(start)
      }
      const files = new Set<bigint>()
      for await (const entry of this.walk(options)) {
        if (entry.type !== 'file' || files.has(entry.inodeRef)) continue
        files.add(entry.inodeRef)
        const inode = await this.inode(entry.inodeRef, options)
        if (inode.type !== 'file') continue
        let pos = inode.blocksStart
        cuts.add(pos)
        for (const word of inode.blockSizes) {
          if ((word & BLOCK_SIZE_MASK) > 0) blocks(word).set(pos, word & BLOCK_SIZE_MASK)
          pos += word & BLOCK_SIZE_MASK
          cuts.add(pos)
          dataBlocks++
        }
      }
    } finally {
      this.store.releasePrefetch()
    }
    const boundaries = [...cuts].filter(c => c >= 0 && c <= sb.bytesUsed).sort((a, b) => a - b).map(c => c + this.offset)
    const list = (m: Map<number, number>): Array<{ offset: number, length: number, fragment?: true }> => [...m].filter(([start, length]) => start + length <= sb.bytesUsed)
      .sort((a, b) => a[0] - b[0]).map(([start, length]) => ({ offset: start + this.offset, length, ...(fragmentStarts.has(start) ? { fragment: true as const } : {}) }))
    return { start: this.offset, end: this.offset + sb.bytesUsed, boundaries, dataBlocks, fragmentBlocks, metadataBlocks, compressedBlocks: list(compressed), storedBlocks: list(stored) }
  }
}
