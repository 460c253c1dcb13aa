import { existsSync } from 'node:fs'
import { type FileHandle, mkdir, open, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { logger } from '@libp2p/logger'
import { FsBlockstore } from 'blockstore-fs'
import { NextToLast } from 'blockstore-fs/sharding'
import { base32upper } from 'multiformats/bases/base32'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import * as Digest from 'multiformats/hashes/digest'
import { BlockWriteError } from './errors.ts'
import type { AbortOptions } from '@libp2p/interface'
import type { Pair } from 'interface-blockstore'

const log = logger('hubless:net:block-files')

/**
 * blockstore-fs's default layout (`<last 2 chars>/<base32 multihash>.data`, as go-ipfs' flatfs),
 * read back as blockstore-level does: a file name holds only the multihash, so a block comes back
 * as CIDv1 raw. NextToLast's own `decode` parses the multihash as a CID, which works for sha2-256
 * only and would stop Helia's garbage collection at the first sha2-512 block.
 */
class MultihashFiles extends NextToLast {
  override decode (path: string): CID {
    const name = basename(path, this.extension)
    return CID.createV1(raw.code, Digest.decode(base32upper.decoder.decode(name)))
  }
}

/** The parts of a blockstore that the tiered blockstore uses for its large blocks */
export interface BlockFiles {
  readonly path: string
  open (): Promise<void>
  has (cid: CID, options?: AbortOptions): Promise<boolean>
  /**
   * `has` on the calling thread: a file's existence is a lookup in the kernel's name cache (a
   * microsecond or two), where an `access` through libuv's thread pool cost ~15 µs a block, and
   * an update asks it of every leaf it fetches
   */
  hasNow (cid: CID): boolean
  /** Writes the block's file durably (see `writeDurably`); a block already there is replaced by the same bytes */
  put (cid: CID, bytes: Uint8Array, options?: AbortOptions): Promise<void>
  /** Throws a `NotFoundError` (interface-store's) when the block is not there */
  get (cid: CID, options?: AbortOptions): AsyncGenerator<Uint8Array>
  /** Removes the block's file; nothing happens when there is none */
  delete (cid: CID, options?: AbortOptions): Promise<void>
  getAll (options?: AbortOptions): AsyncGenerator<Pair>
}

let temps = 0

/**
 * Temp file, data flushed to the disk, then rename: after a crash or a power cut a block's file is
 * either whole or absent, never torn (ext4 may keep a renamed file's name but not its data unless
 * the data was synced first). A missing block is found missing and fetched again; a torn one would
 * be served as it is (local reads do not re-hash). The directory is not synced: a lost name is only
 * a missing block. Temp names are unique, so two writers of one block never share a temp file.
 */
async function writeDurably (file: string, bytes: Uint8Array): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${++temps}.tmp`)
  let handle: FileHandle
  try {
    handle = await open(temp, 'wx')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    // the shard directory's first block
    await mkdir(dirname(file), { recursive: true })
    handle = await open(temp, 'wx')
  }
  try {
    try {
      await handle.writeFile(bytes)
      await handle.datasync()
    } finally {
      await handle.close()
    }
    await rename(temp, file)
  } catch (err) {
    await unlink(temp).catch(() => {})
    throw err
  }
}

/**
 * Blocks as files under `directory`, in blockstore-fs's layout. blockstore-fs reads, lists and
 * deletes them; writes go through `writeDurably` (blockstore-fs's own writes do not sync the data).
 */
export function createBlockFiles (directory: string): BlockFiles {
  const sharding = new MultihashFiles()
  const store = new FsBlockstore(directory, { shardingStrategy: sharding })
  return {
    path: store.path,
    async open () {
      await store.open()
    },
    async has (cid, options) {
      options?.signal?.throwIfAborted()
      return this.hasNow(cid)
    },
    hasNow (cid) {
      const { dir, file } = sharding.encode(cid)
      return existsSync(join(store.path, dir, file))
    },
    async put (cid, bytes, options) {
      options?.signal?.throwIfAborted()
      const { dir, file } = sharding.encode(cid)
      try {
        await writeDurably(join(store.path, dir, file), bytes)
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        log.error('writing block %c failed - %e', cid, err)
        const hint = code === 'ENOSPC' ? 'The disk is full: free space or move the data directory.' : 'Check that the data directory is writable.'
        throw new BlockWriteError(`Cannot write block ${cid} to ${store.path}: ${(err as Error).message}. ${hint}`, { cause: err })
      }
    },
    get (cid, options) {
      return store.get(cid, options)
    },
    async delete (cid, options) {
      await store.delete(cid, options)
    },
    async * getAll (options) {
      yield * store.getAll(options)
    }
  }
}
