import { unixfs } from '@helia/unixfs'
import { CarBlockIterator } from '@ipld/car'
import { createUnsafe } from 'multiformats/block'
import { logger } from '@libp2p/logger'
import { importFile } from 'ipfs-unixfs-importer'
import { CustomProgressEvent } from 'progress-events'
import { openAddSource } from './add-source.ts'
import { createBlockSink } from './block-sink.ts'
import { pinBlocks, pinSingleBlocks } from './bulk-pin.ts'
import type { BulkPinComponents } from './bulk-pin.ts'
import { contentDefinedLayout } from './dag-layout.ts'
import { exportLocalCar } from './car-export.ts'
import { fixedSizeChunker } from './chunker.ts'
import { parseCid } from './cid.ts'
import { blockMatches, mayLink } from './dag.ts'
import { BadCarError, BlockVerificationError } from './errors.ts'
import { fetchDag } from './fetch.ts'
import { fetchFile } from './file-fetch.ts'
import { notFound } from './not-found.ts'
import { openUnixfsFile } from './file-response.ts'
import { drain, toBytes } from './iterables.ts'
import { GcGate } from './gc-gate.ts'
import type { FetchDefaults } from './fetch.ts'
import type { TieredBlockstore } from './tiered-blockstore.ts'
import type { AddOptions, CatOptions, Content, ExportCarOptions, GcOptions, GcResult, ImportCarOptions, NodeHelia, PinManyOptions, PinOptions } from './index.ts'
import type { GraphWalkerFactory } from '@helia/interface'
import type { AbortOptions } from '@libp2p/interface'
import type { Blockstore } from 'interface-blockstore'
import type { CID } from 'multiformats/cid'

const log = logger('hubless:net:content')

export const DEFAULT_CHUNK_SIZE = 1024 * 1024


async function * catStream (helia: NodeHelia, cid: CID | string, options: CatOptions): AsyncGenerator<Uint8Array> {
  const root = parseCid(cid)
  const fs = unixfs(helia)
  let total: number | undefined
  try {
    if (options.onProgress != null) {
      const stats = await fs.stat(root, { signal: options.signal, offline: options.offline })
      const size = Number(stats.size) - (options.offset ?? 0)
      total = options.length != null ? Math.min(size, options.length) : size
    }
    let bytes = 0
    for await (const chunk of fs.cat(root, { signal: options.signal, offset: options.offset, length: options.length, offline: options.offline })) {
      bytes += chunk.byteLength
      options.onProgress?.(new CustomProgressEvent('hubless:content:bytes', { bytes, total }))
      yield chunk
    }
  } catch (err) {
    throw notFound(root, err)
  }
}

async function * verifiedBlocks (helia: NodeHelia, iterator: CarBlockIterator, options: ImportCarOptions): AsyncGenerator<{ cid: CID, bytes: Uint8Array }> {
  try {
    for await (const block of iterator) {
      options.signal?.throwIfAborted()
      if (!(await blockMatches(helia.getHasher, block.cid, block.bytes))) {
        throw new BlockVerificationError(`The CAR holds bytes for ${block.cid} that do not hash to it; nothing after it was imported`)
      }
      yield block
    }
  } catch (err) {
    if (err instanceof BlockVerificationError || (err as Error).name === 'AbortError') throw err
    throw new BadCarError(`The CAR stream is malformed: ${(err as Error).message}`)
  }
}

async function * singleChunk (bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes
}

/**
 * `store`: the blockstore under Helia's, written to directly by `add` and `putBlocks`; without it
 * blocks go through Helia's `putMany`. `pins`: Helia's datastore, where `add` writes the pin
 * records of the blocks it stored in batches (bulk-pin.ts); without it `add` pins through Helia.
 */
export function createContent (helia: NodeHelia, defaults: FetchDefaults, store?: TieredBlockstore, pins?: BulkPinComponents): Content {
  const gate = new GcGate()
  const fs = unixfs(helia)
  // a bulk pin reads every block's record, then writes them all: two at once could lose a count
  let pinning: Promise<unknown> = Promise.resolve()
  async function oneAtATime (pin: () => Promise<void>): Promise<void> {
    const pinned = pinning.then(pin)
    pinning = pinned.catch(() => {})
    await pinned
  }

  async function pinRoot (root: CID, options: PinOptions, walker?: GraphWalkerFactory): Promise<void> {
    if (await helia.pins.isPinned(root, options)) return
    try {
      await drain(helia.pins.add(root, {
        signal: options.signal,
        walker,
        onProgress: (evt) => {
          if (evt.type === 'helia:pin:add') {
            options.onProgress?.(new CustomProgressEvent('hubless:pin:block', evt.detail))
          }
        }
      }))
    } catch (err) {
      throw notFound(root, err)
    }
  }

  const content: Content = {
    async add (source, options: AddOptions = {}) {
      const pin = options.pin !== false
      // a collection between storing the blocks and pinning them would take them (the pin walk
      // below does not read them back, so it would not notice); callers never add inside a hold
      const release = pin ? await gate.hold(options.signal) : undefined
      try {
        const stream = await openAddSource(source, options)
        const importOptions = { signal: options.signal, cidVersion: 1 as const, rawLeaves: true, chunker: options.chunker ?? fixedSizeChunker(DEFAULT_CHUNK_SIZE), layout: contentDefinedLayout() }
        if (store == null) {
          const cid = await fs.addByteStream(stream, importOptions)
          if (pin) await pinRoot(cid, { signal: options.signal })
          log('added %c', cid)
          return cid
        }
        // addByteStream's importer with the same options, its blocks written straight to the store
        // a file's leaves are read into buffers of this add's own, freed once written
        const sink = createBlockSink(store, { ownBuffers: typeof source === 'string' || options.ownBuffers === true })
        const { cid } = await importFile({ content: stream }, sink.blockstore as Blockstore, importOptions)
        await sink.flush({ signal: options.signal })
        const dag = pin && pins != null ? sink.dag(cid) : undefined
        if (dag != null && pins != null) {
          await oneAtATime(async () => pinBlocks(pins, cid, dag, { signal: options.signal }))
        } else if (pin) {
          await pinRoot(cid, { signal: options.signal }, sink.walker())
        }
        log('added %c', cid)
        return cid
      } finally {
        release?.()
      }
    },

    cat (cid, options = {}) {
      return catStream(helia, cid, options)
    },

    async get (cid, options = {}) {
      return toBytes(catStream(helia, cid, options))
    },

    async openFile (cid, options: AbortOptions = {}) {
      return openUnixfsFile(helia, parseCid(cid), options, store?.getSized)
    },

    async has (cid, options: AbortOptions = {}) {
      return helia.blockstore.has(parseCid(cid), options)
    },

    async pin (cid, options: PinOptions = {}) {
      await pinRoot(parseCid(cid), options)
    },

    async pinMany (cids, options: PinManyOptions = {}) {
      const roots = cids.map(cid => parseCid(cid))
      if (store == null || pins == null) return roots
      if (options.leaves === true) {
        await oneAtATime(async () => pinSingleBlocks(pins, roots, options))
        return []
      }
      // each root's block, read in one go: one that links to nothing is pinned in a batch; one
      // that links on, or is not here, is the caller's to pin one by one (it may come from peers)
      const left: CID[] = []
      const single: CID[] = []
      const blocks = await store.readMany(roots, options)
      const codecs = new Map<number, Awaited<ReturnType<typeof helia.getCodec>>>()
      for (const [i, root] of roots.entries()) {
        const bytes = blocks[i]
        if (bytes == null) {
          left.push(root)
          continue
        }
        if (!mayLink(root.code, bytes)) {
          single.push(root)
          continue
        }
        let codec = codecs.get(root.code)
        if (codec == null) {
          codec = await helia.getCodec(root.code)
          codecs.set(root.code, codec)
        }
        const block = createUnsafe({ cid: root, bytes, codec })
        if (block.links()[Symbol.iterator]().next().done === true) single.push(root)
        else left.push(root)
      }
      await oneAtATime(async () => pinSingleBlocks(pins, single, options))
      return left
    },

    async unpin (cid, options: AbortOptions = {}) {
      const root = parseCid(cid)
      // isPinned is also true for blocks held by another pin; only a pin of this root can be removed
      try {
        await helia.pins.get(root, options)
      } catch {
        return
      }
      await drain(helia.pins.rm(root, { signal: options.signal }))
    },

    async isPinned (cid, options: AbortOptions = {}) {
      return helia.pins.isPinned(parseCid(cid), options)
    },

    async holdGc (options: AbortOptions = {}) {
      return gate.hold(options.signal)
    },

    async gc (options: GcOptions = {}): Promise<GcResult> {
      let removed = 0
      await gate.collect(async () => helia.gc({
        signal: options.signal,
        onProgress: (evt) => {
          if (evt.type === 'helia:gc:deleted') {
            removed++
            options.onProgress?.(new CustomProgressEvent('hubless:gc:deleted', evt.detail))
          }
        }
      }))
      log('gc removed %d blocks', removed)
      return { removed }
    },

    async * exportCar (cid, options: ExportCarOptions = {}) {
      const root = parseCid(cid)
      if (options.offline === false) {
        await content.pin(root, { signal: options.signal })
      }
      yield * exportLocalCar(helia, root, options)
    },

    async importCar (source, options: ImportCarOptions = {}) {
      const stream = source instanceof Uint8Array ? singleChunk(source) : source
      let iterator: CarBlockIterator
      try {
        iterator = await CarBlockIterator.fromIterable(stream)
      } catch (err) {
        throw new BadCarError(`The CAR stream has no valid header: ${(err as Error).message}`)
      }
      for await (const block of verifiedBlocks(helia, iterator, options)) {
        await helia.blockstore.put(block.cid, block.bytes, { signal: options.signal })
        options.onProgress?.(new CustomProgressEvent('hubless:car:block', block.cid))
      }
      return iterator.getRoots()
    },

    async fetch (cid, options = {}) {
      return fetchDag(helia, parseCid(cid), defaults, options)
    },

    async fetchFile (cid, path, options = {}) {
      return fetchFile(helia, parseCid(cid), path, { ...defaults, store }, options)
    },

    async putBlocks (blocks, options: AbortOptions = {}) {
      const list = [...blocks]
      for (const { cid, bytes } of list) {
        if (!(await blockMatches(helia.getHasher, cid, bytes))) throw new BlockVerificationError(`The bytes given for ${cid} do not hash to it; no block was stored`)
      }
      options.signal?.throwIfAborted()
      if (store == null) {
        for await (const _ of helia.blockstore.putMany(list, options)) { /* drain */ }
        return
      }
      await store.putAll(list, options)
    }
  }
  return content
}
