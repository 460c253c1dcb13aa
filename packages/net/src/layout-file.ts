import { BadDagError } from './errors.ts'
import { readFileLayout } from './file-layout.ts'
import { toBytes } from './iterables.ts'
import type { FileLayout } from './file-layout.ts'
import type { NodeHelia } from './index.ts'
import type { AbortOptions } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

/** Layouts kept per node: a client asks for ranges of one file in several requests at once */
const CACHED_LAYOUTS = 16
/** Bytes of DAG nodes beyond which the layout is not kept (data held in dag-pb leaves, a DAG of small leaves) */
const MAX_NODE_BYTES = 4 * 1024 * 1024

interface Segment {
  offset: number
  size: number
  cid?: CID
  bytes?: Uint8Array
}

/** Reads a leaf of a known size whole (the tiered blockstore's `getSized`) */
export type LeafReader = (cid: CID, size: number, options?: AbortOptions) => Promise<Uint8Array>

export interface LayoutFile {
  readonly size: number
  read (offset: number, length: number, options?: AbortOptions): AsyncGenerator<Uint8Array>
}

interface Segments { size: number, list: Segment[] }

/** leaves of a range read at once, ahead of the one being sent */
const READ_AHEAD = 8

const caches = new WeakMap<NodeHelia, Map<string, Promise<Segments | undefined>>>()

/**
 * A UnixFS file the node holds, read through its layout (`readFileLayout`, from local blocks):
 * a range reads just the leaves under it, one `blockstore.get` each, and many ranges of one file
 * cost one walk of its DAG nodes (cached per node, the last {@link CACHED_LAYOUTS} files), not
 * one per range. `undefined` when the layout does not fit this way (data held in the DAG's
 * nodes rather than raw leaves, more than {@link MAX_NODE_BYTES} of nodes, or not a UnixFS
 * file); the caller then reads through the UnixFS exporter.
 */
export async function openLayoutFile (helia: NodeHelia, cid: CID, options: AbortOptions = {}, readLeaf?: LeafReader): Promise<LayoutFile | undefined> {
  const found = await cachedSegments(helia, cid, options)
  if (found == null) return undefined
  const { size, list: segments } = found
  return {
    size,
    async * read (offset, length, opts = {}) {
      const end = Math.min(size, offset + length)
      const first = firstEndingAfter(segments, offset)
      let last = first
      while (last < segments.length && segments[last]!.offset < end) last++
      const load = (segment: Segment): Promise<Uint8Array> => segment.bytes != null
        ? Promise.resolve(segment.bytes)
        : readLeaf != null
          ? readLeaf(segment.cid!, segment.size, { signal: opts.signal })
          : toBytes(helia.blockstore.get(segment.cid!, { offline: true, signal: opts.signal }))
      // a few leaves read ahead: one at a time, a file of small leaves was served at the pace of
      // a disk read's round trip through the thread pool, not at the disk's
      const ahead: Array<Promise<Uint8Array>> = []
      let next = first
      try {
        for (let i = first; i < last; i++) {
          while (next < last && next - i < READ_AHEAD) {
            const reading = load(segments[next++]!)
            // one that fails before its turn is not unhandled: its turn's await throws it
            reading.catch(() => {})
            ahead.push(reading)
          }
          const segment = segments[i]!
          const bytes = await ahead.shift()!
          yield bytes.subarray(Math.max(0, offset - segment.offset), Math.min(segment.size, end - segment.offset))
        }
      } finally {
        // reads begun for a reader that left are not waited for
        ahead.length = 0
      }
    }
  }
}

function firstEndingAfter (segments: Segment[], offset: number): number {
  let lo = 0
  let hi = segments.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const s = segments[mid]!
    if (s.offset + s.size <= offset) lo = mid + 1
    else hi = mid
  }
  return lo
}

async function cachedSegments (helia: NodeHelia, cid: CID, options: AbortOptions): Promise<Segments | undefined> {
  let cache = caches.get(helia)
  if (cache == null) {
    cache = new Map()
    caches.set(helia, cache)
  }
  const key = cid.toString()
  let segments = cache.get(key)
  if (segments == null) {
    segments = layoutSegments(helia, cid, options)
    cache.set(key, segments)
    if (cache.size > CACHED_LAYOUTS) cache.delete(cache.keys().next().value!)
    // a failure (a block missing, an abort) is not remembered
    segments.catch(() => { cache.delete(key) })
  }
  return segments
}

async function layoutSegments (helia: NodeHelia, cid: CID, options: AbortOptions): Promise<Segments | undefined> {
  let nodeBytes = 0
  const load = async (node: CID): Promise<Uint8Array> => {
    const bytes = await toBytes(helia.blockstore.get(node, { offline: true, signal: options.signal }))
    nodeBytes += bytes.byteLength
    if (nodeBytes > MAX_NODE_BYTES) throw new NotALayout()
    return bytes
  }
  let layout: FileLayout
  try {
    layout = await readFileLayout(cid, load, options)
  } catch (err) {
    if (err instanceof NotALayout || err instanceof BadDagError) return undefined
    throw err
  }
  const segments: Segment[] = [
    ...layout.leaves.map(leaf => ({ offset: leaf.offset, size: leaf.size, cid: leaf.cid })),
    ...layout.inline.map(part => ({ offset: part.offset, size: part.bytes.byteLength, bytes: part.bytes }))
  ]
  return { size: layout.size, list: segments.sort((a, b) => a.offset - b.offset) }
}

/** Internal: the DAG is not worth a layout (too many node bytes) */
class NotALayout extends Error {}
