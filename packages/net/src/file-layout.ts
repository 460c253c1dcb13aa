import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import * as raw from 'multiformats/codecs/raw'
import { BadDagError, ContentTooLargeError } from './errors.ts'
import { MAX_BLOCK_BYTES } from './gateway-client.ts'
import type { AbortOptions } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

/** A raw leaf of a file: its bytes are the file's from `offset`, `size` of them */
export interface FileLeaf {
  cid: CID
  offset: number
  size: number
}

/** Bytes of the file held in a DAG node itself (a raw root, or data in a dag-pb node) */
export interface InlineBytes {
  offset: number
  bytes: Uint8Array
}

export interface FileLayout {
  size: number
  /** in file order */
  leaves: FileLeaf[]
  inline: InlineBytes[]
}

export interface LayoutOptions extends AbortOptions {
  /** the file may not be larger (ContentTooLargeError) */
  maxBytes?: number
  /** DAG nodes loaded at once (default {@link DEFAULT_CONCURRENCY}) */
  concurrency?: number
}

/** DAG nodes loaded at once: each is small, and most round trips are to one mirror */
export const DEFAULT_CONCURRENCY = 32

interface Pending { cid: CID, offset: number, size?: number }

/**
 * Where each raw leaf of the UnixFS file `root` lies in the file, from its dag-pb nodes alone
 * (loaded, verified, by `load`): the leaves themselves are not read. Each node's blockSizes must
 * add up with its links (`BadDagError` otherwise), so offsets can be trusted as far as the root's
 * CID is; a leaf's bytes are checked against its CID, and its length against `size`, by whoever
 * fetches it. A node is loaded as soon as its parent is read, `concurrency` at a time.
 */
export async function readFileLayout (root: CID, load: (cid: CID) => Promise<Uint8Array>, options: LayoutOptions = {}): Promise<FileLayout> {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY
  const layout: FileLayout = { size: 0, leaves: [], inline: [] }
  const queue: Pending[] = []
  // the root alone first: it says the file's size (checked against maxBytes) before more is loaded
  const top: Pending = { cid: root, offset: 0 }
  readNode(top, await load(root), layout, queue, options.maxBytes)
  // then a window over every node known so far: a content-defined DAG has a node per ~16 leaves,
  // and waiting for the slowest of each batch, level by level, cost a round trip per batch
  await new Promise<void>((resolve, reject) => {
    let inFlight = 0
    let settled = false
    const fail = (err: unknown): void => {
      if (settled) return
      settled = true
      reject(err)
    }
    const pump = (): void => {
      if (settled) return
      if (options.signal?.aborted === true) {
        fail(options.signal.reason)
        return
      }
      while (inFlight < concurrency && queue.length > 0) {
        const node = queue.shift()!
        inFlight++
        load(node.cid).then(bytes => {
          inFlight--
          if (settled) return
          readNode(node, bytes, layout, queue, options.maxBytes)
          pump()
        }).catch(fail)
      }
      if (inFlight === 0 && queue.length === 0) {
        settled = true
        resolve()
      }
    }
    pump()
  })
  layout.leaves.sort((a, b) => a.offset - b.offset)
  layout.inline.sort((a, b) => a.offset - b.offset)
  return layout
}

function readNode (node: Pending, bytes: Uint8Array, layout: FileLayout, next: Pending[], maxBytes: number | undefined): void {
  const bad = (what: string): BadDagError => new BadDagError(`${node.cid} is not a node of a UnixFS file: ${what}`)
  if (node.cid.code === raw.code) {
    if (node.size != null && node.size !== bytes.byteLength) throw bad(`its parent says ${node.size} bytes, it holds ${bytes.byteLength}`)
    setSize(layout, node, bytes.byteLength, maxBytes)
    if (bytes.byteLength > 0) layout.inline.push({ offset: node.offset, bytes })
    return
  }
  if (node.cid.code !== dagPb.code) throw bad(`codec 0x${node.cid.code.toString(16)}`)
  let pb: dagPb.PBNode
  let fs: UnixFS
  try {
    pb = dagPb.decode(bytes)
    fs = UnixFS.unmarshal(pb.Data ?? new Uint8Array(0))
  } catch (err) {
    throw bad((err as Error).message)
  }
  if (fs.type !== 'file' && fs.type !== 'raw') throw bad(`UnixFS type ${fs.type}`)
  if (fs.blockSizes.length !== pb.Links.length) throw bad(`${pb.Links.length} links and ${fs.blockSizes.length} block sizes`)
  const size = Number(fs.fileSize())
  if (node.size != null && node.size !== size) throw bad(`its parent says ${node.size} bytes, it holds ${size}`)
  setSize(layout, node, size, maxBytes)
  let offset = node.offset
  if (fs.data != null && fs.data.byteLength > 0) {
    layout.inline.push({ offset, bytes: fs.data })
    offset += fs.data.byteLength
  }
  pb.Links.forEach((link, i) => {
    const childSize = Number(fs.blockSizes[i]!)
    // a child of no bytes adds nothing to the file (and a DAG of them could be walked forever)
    if (childSize === 0) return
    if (link.Hash.code === raw.code && childSize <= MAX_BLOCK_BYTES) layout.leaves.push({ cid: link.Hash, offset, size: childSize })
    else next.push({ cid: link.Hash, offset, size: childSize })
    offset += childSize
  })
}

function setSize (layout: FileLayout, node: Pending, size: number, maxBytes: number | undefined): void {
  // only the root comes without a size from its parent: the file's, known before any leaf is fetched
  if (node.size != null) return
  if (maxBytes != null && size > maxBytes) {
    throw new ContentTooLargeError(`The file ${node.cid} has ${size} bytes, more than the limit of ${maxBytes}; fetched no further`, maxBytes)
  }
  layout.size = size
}
