import { logger } from '@libp2p/logger'
import { CustomProgressEvent } from 'progress-events'
import { count, createFetchState, fetchBlock } from './fetch.ts'
import { DEFAULT_CONCURRENCY, readFileLayout } from './file-layout.ts'
import { leafKey } from './leaf-assembler.ts'
import { fetchLeaves } from './leaf-sources.ts'
import { openPartFile } from './part-file.ts'
import { copyFromSeed, scanSeed, seedIndexFromDag } from './seed.ts'
import type { SeedMatch, SeedScan } from './seed.ts'
import type { FetchDefaults } from './fetch.ts'
import type { FileLeaf } from './file-layout.ts'
import type { FetchFileOptions, FetchFileResult, FileSeed, NodeHelia } from './index.ts'
import type { LeafGroup, Place } from './leaf-assembler.ts'
import type { CID } from 'multiformats/cid'

const log = logger('hubless:net:file-fetch')

/** Leaves by key, each with every offset it fills */
function groupLeaves (leaves: FileLeaf[]): Map<string, LeafGroup> {
  const groups = new Map<string, LeafGroup>()
  for (const leaf of leaves) {
    const key = leafKey(leaf.cid)
    const group = groups.get(key)
    if (group == null) groups.set(key, { cid: leaf.cid, size: leaf.size, offsets: [leaf.offset] })
    else group.offsets.push(leaf.offset)
  }
  return groups
}

/**
 * Fetches the UnixFS file `root` into `path`, every byte verified against a CID, and returns
 * its SHA-256. The DAG's nodes (small, kept in the blockstore) say where each leaf goes; while
 * they load, `options.seed` (a local file, the installed version) is read once with the file's
 * chunker: its chunks are noted by hash until the leaves are known, and placed as they are read
 * from then on; a seed whose own DAG's nodes are held (`seed.root`) is not cut: they say where
 * its leaves lie, and the leaves it lacks are fetched at once. Then the leaves: those the seed
 * held before are copied from it, the others come from the blockstore, the part file an
 * interrupted fetch left at `path`, peers and gateways (see `fetchLeaves`). When the seed's cuts are known in advance,
 * leaves of a size no chunk of the seed has are fetched while the seed is still being read.
 * Nothing fetched is stored in the blockstore but the DAG's nodes: `path` is where a fetch cut
 * short resumes.
 */
export async function fetchFile (helia: NodeHelia, root: CID, path: string, defaults: FetchDefaults, options: FetchFileOptions = {}): Promise<FetchFileResult> {
  const { signal } = options
  // the DAG's nodes are asked of a mirror as many at a time as the layout loads at once
  const state = createFetchState(helia, root, defaults, options, DEFAULT_CONCURRENCY)
  const seeding = Promise.resolve(options.seed)
  // the seed is read beside the DAG walk, and hands its chunks to `match` once the leaves are
  // known; a seed that failed is reported below, once the layout (and its errors) came first
  let match: SeedMatch | undefined
  // a seed whose own DAG is held says where its leaves lie (local reads only); any other is cut
  const fromDag = seeding.then(async seed => seed?.root == null ? undefined : await seedIndexFromDag(helia, seed.path, seed.root, { signal }))
  fromDag.catch(() => {})
  const scanning = fromDag.then(async index => {
    if (index != null) return { index }
    const seed = await seeding
    return seed == null ? undefined : await scan(seed, options, () => match)
  })
  scanning.catch(() => {})
  const layout = await readFileLayout(root, async cid => fetchBlock(state, cid), { signal, maxBytes: options.maxBytes })
  const seed = await seeding
  const wanted = groupLeaves(layout.leaves)
  log('%c: %d bytes, %d distinct leaves, %d DAG nodes', root, layout.size, wanted.size, state.result.blocks)
  const part = await openPartFile(path, layout.size)
  let sha256: string
  try {
    for (const { offset, bytes } of layout.inline) await part.write(bytes, offset)
    const place: Place = async (group, bytes, source) => {
      if (!wanted.delete(leafKey(group.cid))) return
      count(state, group.cid, bytes, source)
      for (const offset of group.offsets) await part.write(bytes, offset)
    }
    const sources = { state, part, size: layout.size, place }
    match = async (key, bytes) => {
      const group = wanted.get(key)
      if (group == null || group.size !== bytes.byteLength) return false
      await place(group, bytes, 'local')
      return true
    }
    if (seed != null && wanted.size > 0) {
      // leaves the seed cannot hold (not in its DAG, or no chunk of their size) go to the network at once
      const known = await fromDag
      const sizes = known != null || seed.cuts == null ? undefined : chunkSizes(seed.cuts)
      const elsewhere = new Map([...wanted].filter(([key, group]) => known != null ? known.get(key)?.size !== group.size : sizes != null && !sizes.has(group.size)))
      const beside = elsewhere.size
      const fetching = fetchLeaves(sources, elsewhere)
      fetching.catch(() => {})
      try {
        const scanned = await scanning
        if (scanned != null) await copyFromSeed(seed.path, scanned.index, wanted, async (group, bytes) => { await place(group, bytes, 'local') }, { signal })
      } catch (err) {
        // the fetch it started writes into the part file: it must end before the file is closed
        await fetching.catch(() => {})
        signal?.throwIfAborted()
        if ((err as Error).name === 'ContentTooLargeError') throw err
        // a seed that cannot be read: what it gave is kept, the rest is fetched
        log('could not copy all of %s: %e', seed.path, err)
      }
      part.flushEarly()
      // what the seed did not hold is fetched beside what is being fetched already
      const rest = new Map([...wanted].filter(([key]) => !elsewhere.has(key)))
      log('%c: %d leaves fetched beside the seed, %d more wanted after it', root, beside, rest.size)
      const rounds = await Promise.allSettled([fetching, fetchLeaves(sources, rest)])
      for (const round of rounds) if (round.status === 'rejected') throw round.reason
    } else {
      await fetchLeaves(sources, new Map(wanted))
    }
    sha256 = await part.finish(bytes => {
      options.onProgress?.(new CustomProgressEvent('hubless:fetch:hash', { bytes, total: layout.size }))
    }, signal)
  } finally {
    await part.close()
  }
  log('fetched %c into %s: %d blocks, %o', root, path, state.result.blocks, state.result.sources)
  return { ...state.result, size: layout.size, sha256 }
}

/** The sizes of the chunks that end at `cuts` */
function chunkSizes (cuts: number[]): Set<number> {
  const sizes = new Set<number>()
  let start = 0
  for (const cut of cuts) {
    sizes.add(cut - start)
    start = cut
  }
  return sizes
}

/** The seed indexed by its chunks' hashes; a seed the chunker cannot read to its end gives what it gave */
async function scan (seed: FileSeed, options: FetchFileOptions, match: () => SeedMatch | undefined): Promise<SeedScan> {
  const scanned = await scanSeed(seed.path, seed.chunker, {
    match,
    signal: options.signal,
    onBytes: bytes => { options.onProgress?.(new CustomProgressEvent('hubless:fetch:seed', { bytes })) }
  })
  if (scanned.error != null) log('could not read all of %s for reuse: %e', seed.path, scanned.error)
  return scanned
}
