import { logger } from '@libp2p/logger'
import * as raw from 'multiformats/codecs/raw'
import { base32UpperEncode } from './multibase.ts'
import type { BlockFiles } from './block-files.ts'
import type { AbortOptions } from '@libp2p/interface'
import type { LevelBlockstore } from 'blockstore-level'
import type { Blockstore, InputPair, Pair } from 'interface-blockstore'
import type { CID } from 'multiformats/cid'

const log = logger('hubless:net:tiered-blockstore')

/**
 * Blocks of this size and larger are files; smaller ones stay in LevelDB. 1 MiB raw leaves in
 * LevelDB are rewritten by every compaction (a 2 GB add wrote them several times over and held
 * hundreds of MB of compaction buffers); a file costs an inode and a few syscalls, worth it for
 * leaves but not for DAG nodes (a node of 1,024 links is ~45 KiB) or OrbitDB entries (< 4 KiB).
 */
export const DEFAULT_LARGE_BLOCK_BYTES = 64 * 1024

/** A block's key in blockstore-level (its private `#encode`, with the default base) */
export function levelKey (cid: CID): string {
  return `/${base32UpperEncode(cid.multihash.bytes)}`
}

export interface TieredBlockstoreComponents {
  /** small blocks, and every block of a data directory written before block files existed */
  level: LevelBlockstore
  /** large blocks */
  files: BlockFiles
}

export interface TieredBlockstoreInit {
  /** blocks of at least this many bytes are written as files (default `DEFAULT_LARGE_BLOCK_BYTES`) */
  largeBlockBytes?: number
}

export interface TieredBlockstore extends Blockstore {
  /** Writes many blocks, not checking for them first: the small ones in one LevelDB batch, the large ones as files */
  putAll (blocks: ReadonlyArray<{ cid: CID, bytes: Uint8Array }>, options?: AbortOptions): Promise<void>
  /**
   * A block whose size is known (a leaf, from its parent's links), whole: looked for first where
   * its size put it. Bypasses Helia's lock and `has`: a leaf read for an HTTP range cost a lock,
   * a `has` in both stores and a failed `open` before the read.
   */
  getSized (cid: CID, size: number, options?: AbortOptions): Promise<Uint8Array>
  /** `has` of many blocks: one LevelDB call for all of them, block files looked up on this thread */
  hasMany (cids: readonly CID[], options?: AbortOptions): Promise<boolean[]>
  /** Many small blocks (log entries) in one LevelDB call; those not there are looked for as files; `undefined` for a block held nowhere */
  readMany (cids: readonly CID[], options?: AbortOptions): Promise<Array<Uint8Array | undefined>>
  /** Closes LevelDB (block files need no closing) */
  close (): Promise<void>
}

function isNotFound (err: unknown): boolean {
  return (err as Error)?.name === 'NotFoundError'
}

async function toBytes (value: InputPair['bytes'], options?: AbortOptions): Promise<Uint8Array> {
  if (value instanceof Uint8Array) return value
  const parts: Uint8Array[] = []
  for await (const part of value) {
    options?.signal?.throwIfAborted()
    parts.push(part)
  }
  return parts.length === 1 ? parts[0]! : new Uint8Array(Buffer.concat(parts))
}

/** Reads from `first`, then from `second` when `first` has no such block (and had yielded nothing) */
async function * getEither (first: (cid: CID) => AsyncGenerator<Uint8Array> | Generator<Uint8Array>,
  second: (cid: CID) => AsyncGenerator<Uint8Array> | Generator<Uint8Array>, cid: CID): AsyncGenerator<Uint8Array> {
  let yielded = false
  try {
    for await (const part of first(cid)) {
      yielded = true
      yield part
    }
    return
  } catch (err) {
    if (yielded || !isNotFound(err)) throw err
  }
  // the second store's NotFoundError is the caller's when neither has the block
  yield * second(cid)
}

/**
 * One blockstore over two: a block is written to files or LevelDB by its size, and read, checked
 * and deleted in both, so a data directory from before block files keeps all its blocks (no
 * migration: they stay in LevelDB until collected). Helia's pins and garbage collection see both
 * through `getAll`. Where a block is looked for first goes by its codec: raw leaves are large.
 */
export function createTieredBlockstore ({ level, files }: TieredBlockstoreComponents, init: TieredBlockstoreInit = {}): TieredBlockstore {
  const largeBlockBytes = init.largeBlockBytes ?? DEFAULT_LARGE_BLOCK_BYTES
  const fromLevel = (cid: CID, options?: AbortOptions) => level.get(cid, options)
  const fromFiles = (cid: CID, options?: AbortOptions) => files.get(cid, options)
  // classic-level's `has` does not read the value (blockstore-level's `has` is a `get`)
  const inLevel = async (cid: CID, options?: AbortOptions): Promise<boolean> => {
    options?.signal?.throwIfAborted()
    return level.db.has(levelKey(cid))
  }

  const store: TieredBlockstore = {
    async close () {
      await level.close()
    },

    async has (cid, options) {
      if (cid.code === raw.code) return (await files.has(cid, options)) || inLevel(cid, options)
      return (await inLevel(cid, options)) || files.has(cid, options)
    },

    async put (cid, value, options) {
      const bytes = await toBytes(value, options)
      if (bytes.byteLength >= largeBlockBytes) await files.put(cid, bytes, options)
      else await level.put(cid, bytes, options)
      return cid
    },

    async * putMany (source, options) {
      for await (const { cid, bytes } of source) {
        await store.put(cid, bytes, options)
        yield cid
      }
    },

    async putAll (blocks, options) {
      options?.signal?.throwIfAborted()
      const small = blocks.filter(block => block.bytes.byteLength < largeBlockBytes)
      const large = blocks.filter(block => block.bytes.byteLength >= largeBlockBytes)
      await Promise.all([
        small.length > 0 ? level.db.batch(small.map(({ cid, bytes }) => ({ type: 'put' as const, key: levelKey(cid), value: bytes }))) : undefined,
        ...large.map(async ({ cid, bytes }) => files.put(cid, bytes, options))
      ])
      log('stored %d blocks in LevelDB and %d as files', small.length, large.length)
    },

    get (cid, options) {
      return cid.code === raw.code
        ? getEither(key => fromFiles(key, options), key => fromLevel(key, options), cid)
        : getEither(key => fromLevel(key, options), key => fromFiles(key, options), cid)
    },

    async hasMany (cids, options) {
      options?.signal?.throwIfAborted()
      const held = cids.map(cid => files.hasNow(cid))
      const rest = held.flatMap((has, i) => has ? [] : [i])
      if (rest.length === 0) return held
      const inLevel = await level.db.hasMany(rest.map(i => levelKey(cids[i]!)))
      rest.forEach((i, at) => { held[i] = inLevel[at] === true })
      return held
    },

    async readMany (cids, options) {
      options?.signal?.throwIfAborted()
      const found: Array<Uint8Array | undefined> = await level.db.getMany(cids.map(levelKey))
      await Promise.all(cids.map(async (cid, i) => {
        if (found[i] != null || !files.hasNow(cid)) return
        found[i] = await toBytes(files.get(cid, options), options).catch((err: Error) => {
          if (isNotFound(err)) return undefined
          throw err
        })
      }))
      return found
    },

    async getSized (cid, size, options) {
      const parts = size >= largeBlockBytes
        ? getEither(key => fromFiles(key, options), key => fromLevel(key, options), cid)
        : getEither(key => fromLevel(key, options), key => fromFiles(key, options), cid)
      return toBytes(parts, options)
    },

    async * getMany (source, options) {
      for await (const cid of source) yield { cid, bytes: store.get(cid, options) }
    },

    async delete (cid, options) {
      await Promise.all([level.delete(cid, options), files.delete(cid, options)])
    },

    async * deleteMany (source, options) {
      for await (const cid of source) {
        await store.delete(cid, options)
        yield cid
      }
    },

    async * getAll (options): AsyncGenerator<Pair> {
      yield * level.getAll(options)
      yield * files.getAll(options)
    }
  }
  return store
}
