import { logger } from '@libp2p/logger'
import { base32upper } from 'multiformats/bases/base32'
import * as raw from 'multiformats/codecs/raw'
import { sequentialWalker } from './pin-walker.ts'
import type { GraphWalkerFactory } from '@helia/interface'
import type { AbortOptions } from '@libp2p/interface'
import type { LevelBlockstore } from 'blockstore-level'
import type { Blockstore } from 'interface-blockstore'
import type { CID } from 'multiformats/cid'

const log = logger('hubless:net:block-sink')

/** Bytes a batch collects before it is written; one batch is written while the next fills */
export const DEFAULT_BATCH_BYTES = 8 * 1024 * 1024

const EMPTY = new Uint8Array(0)

/** A block's key in blockstore-level (its private `#encode`, with the default base) */
export function levelKey (cid: CID): string {
  return `/${base32upper.encoder.encode(cid.multihash.bytes)}`
}

export interface BlockSink {
  /** what the UnixFS importer writes to (it only puts, whole blocks) */
  readonly blockstore: { put: (cid: CID, bytes: Uint8Array, options?: AbortOptions) => Promise<CID> }
  /** writes what is left and waits for every batch */
  flush (options?: AbortOptions): Promise<void>
  /** a pin walker that takes the blocks put here from memory (raw leaves are never read back) */
  walker (): GraphWalkerFactory
}

/**
 * Collects the blocks of one add and writes them to LevelDB in batches: the importer hashes the
 * next chunks while LevelDB writes the last batch on its own thread. Helia's `put` would read each
 * block back first (`has` is a `get` in blockstore-level) and write it alone. The sink remembers
 * which CIDs it stored, and the bytes of the DAG nodes (small), for the pin walk.
 */
export function createBlockSink (store: LevelBlockstore, batchBytes = DEFAULT_BATCH_BYTES): BlockSink {
  let pending: Array<{ type: 'put', key: string, value: Uint8Array }> = []
  let pendingBytes = 0
  let inFlight: Promise<void> = Promise.resolve()
  let failed: Error | undefined
  let batches = 0
  /** CID → bytes for DAG nodes, `EMPTY` for raw leaves (which have no links) */
  const stored = new Map<string, Uint8Array>()

  async function write (): Promise<void> {
    const ops = pending
    pending = []
    pendingBytes = 0
    await inFlight
    if (failed != null) throw failed
    batches++
    inFlight = store.db.batch(ops).catch((err: Error) => { failed = err })
  }

  return {
    blockstore: {
      async put (cid, bytes, options) {
        options?.signal?.throwIfAborted()
        if (failed != null) throw failed
        const key = cid.toString()
        if (stored.has(key)) return cid
        stored.set(key, cid.code === raw.code ? EMPTY : bytes)
        pending.push({ type: 'put', key: levelKey(cid), value: bytes })
        pendingBytes += bytes.byteLength
        if (pendingBytes >= batchBytes) await write()
        return cid
      }
    },

    async flush (options) {
      options?.signal?.throwIfAborted()
      if (pending.length > 0) await write()
      await inFlight
      if (failed != null) throw failed
      log('stored %d blocks in %d batches', stored.size, batches)
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
