import { logger } from '@libp2p/logger'
import * as dagPb from '@ipld/dag-pb'
import * as raw from 'multiformats/codecs/raw'
import { sequentialWalker } from './pin-walker.ts'
import type { GraphWalkerFactory } from '@helia/interface'
import type { AbortOptions } from '@libp2p/interface'
import type { TieredBlockstore } from './tiered-blockstore.ts'
import type { Blockstore } from 'interface-blockstore'
import type { CID } from 'multiformats/cid'

const log = logger('hubless:net:block-sink')

/** Bytes of blocks being written at once; the importer waits while more are in flight */
export const DEFAULT_IN_FLIGHT_BYTES = 8 * 1024 * 1024

/** Blocks handed to the store at once: a LevelDB batch costs about what one put does */
const BATCH_BYTES = 1024 * 1024
const BATCH_BLOCKS = 128

const EMPTY = new Uint8Array(0)

/** Frees the buffers that written raw leaves fill whole (a leaf that is part of a larger buffer shares it, and is left) */
function release (blocks: Array<{ cid: CID, bytes: Uint8Array }>): void {
  for (const { cid, bytes } of blocks) {
    if (cid.code !== raw.code || bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength) continue
    const buffer = bytes.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer }
    buffer.transfer?.(0)
  }
}

export interface BlockSink {
  /** what the UnixFS importer writes to (it only puts, whole blocks) */
  readonly blockstore: { put: (cid: CID, bytes: Uint8Array, options?: AbortOptions) => Promise<CID> }
  /** waits until every block put is written */
  flush (options?: AbortOptions): Promise<void>
  /** a pin walker that takes the blocks put here from memory (raw leaves are never read back) */
  walker (): GraphWalkerFactory
  /**
   * Every block of `root`'s DAG, found from the DAG nodes put here (raw leaves are not read), or
   * undefined when one of them was not put here
   */
  dag (root: CID): CID[] | undefined
}

/**
 * Takes the blocks of one add and writes each to the blockstore without waiting for it, up to
 * `inFlightBytes` at a time: the importer hashes the next chunks while the leaves are written as
 * files on libuv's threads and the DAG nodes go to LevelDB on its own (it groups concurrent writes
 * into one). Helia's `put` checks for each block first and writes one at a time; a LevelDB batch
 * copies its values on the main thread. The sink remembers which CIDs it stored, and the bytes of
 * the DAG nodes (small), for the pin walk.
 */
export interface BlockSinkInit {
  /** bytes being written at once (default {@link DEFAULT_IN_FLIGHT_BYTES}) */
  inFlightBytes?: number
  /**
   * The leaves' buffers are this add's own (read from a file): each that a leaf fills whole is
   * freed as soon as the leaf is written (`ArrayBuffer.prototype.transfer(0)`), instead of when
   * the garbage collector gets to it: V8 lets ~64 MB of such memory pile up between collections,
   * a quarter of a mirror's RSS while it archives a 2 GB image
   */
  ownBuffers?: boolean
}

export function createBlockSink (store: Pick<TieredBlockstore, 'putAll'>, init: BlockSinkInit = {}): BlockSink {
  const inFlightBytes = init.inFlightBytes ?? DEFAULT_IN_FLIGHT_BYTES
  const writing = new Set<Promise<void>>()
  let writingBytes = 0
  let failed: Error | undefined
  /** CID → bytes for DAG nodes, `EMPTY` for raw leaves (which have no links) */
  const stored = new Map<string, Uint8Array>()
  /** blocks not yet handed to the store: written together, one LevelDB batch for the small ones */
  let pending: Array<{ cid: CID, bytes: Uint8Array }> = []
  let pendingBytes = 0

  function write (): void {
    const blocks = pending
    const bytes = pendingBytes
    pending = []
    pendingBytes = 0
    writingBytes += bytes
    const done: Promise<void> = Promise.resolve(store.putAll(blocks))
      .then(() => { if (init.ownBuffers === true) release(blocks) }, (err: Error) => { failed ??= err })
      .finally(() => {
        writingBytes -= bytes
        writing.delete(done)
      })
    writing.add(done)
  }

  return {
    blockstore: {
      async put (cid, bytes, options) {
        options?.signal?.throwIfAborted()
        if (failed != null) throw failed
        const key = cid.toString()
        if (stored.has(key)) return cid
        stored.set(key, cid.code === raw.code ? EMPTY : bytes)
        pending.push({ cid, bytes })
        pendingBytes += bytes.byteLength
        if (pendingBytes >= BATCH_BYTES || pending.length >= BATCH_BLOCKS) write()
        // the importer puts several blocks at once; each waits here while too many bytes are in flight
        while (writingBytes > inFlightBytes && writing.size > 0) await Promise.race(writing)
        if (failed != null) throw failed
        return cid
      }
    },

    async flush (options) {
      options?.signal?.throwIfAborted()
      if (pending.length > 0) write()
      while (writing.size > 0) await Promise.all(writing)
      if (failed != null) throw failed
      log('stored %d blocks', stored.size)
    },

    dag (root) {
      const found: CID[] = []
      const seen = new Set<string>()
      const stack: CID[] = [root]
      while (stack.length > 0) {
        const cid = stack.pop()!
        const key = cid.toString()
        if (seen.has(key)) continue
        seen.add(key)
        const bytes = stored.get(key)
        if (bytes == null) return undefined
        found.push(cid)
        if (cid.code === dagPb.code) for (const link of dagPb.decode(bytes).Links) stack.push(link.Hash)
        else if (cid.code !== raw.code) return undefined
      }
      return found
    },

    walker () {
      return (components) => {
        const blockstore: Blockstore = Object.create(components.blockstore)
        blockstore.get = (cid, options) => {
          const bytes = stored.get(cid.toString())
          if (bytes == null) return components.blockstore.get(cid, options)
          return (async function * () { yield bytes })()
        }
        return sequentialWalker()({ ...components, blockstore })
      }
    }
  }
}
