/**
 * The shape of the UnixFS DAG hubless builds over a file's chunks: a content-defined tree, where
 * a parent node ends after a child whose CID says so (the idea of content-defined Merkle trees
 * and prolly trees), level by level. Two versions of a file that share a run of chunks then share
 * the parent nodes over that run: a change refetches the nodes on its path and about one
 * neighbour a level. A balanced layout (a node every 1024 links) regroups every link after the
 * first change, so an update fetched all of the new file's DAG nodes.
 *
 * The result is an ordinary UnixFS file (dag-pb nodes listing their children and block sizes):
 * any IPFS implementation reads it, and byte ranges seek through it as through a balanced one.
 */
import type { InProgressImportResult } from 'ipfs-unixfs-importer'
import type { FileLayout, Reducer } from 'ipfs-unixfs-importer/layout'
import { BadLayoutParametersError } from './errors.ts'

/**
 * The version of the DAG shape `content.add` builds; with the chunker's version it decides a
 * file's CID. 1: balanced, 1024 links a node; 2: content-defined ({@link DAG_LAYOUT}).
 */
export const DAG_LAYOUT_VERSION = 2

export interface ContentDefinedLayoutInit {
  /**
   * Once a node has `minChildren`, a child ends it with probability 1 / `boundaryOdds` (a power
   * of two): nodes average about `minChildren - 1 + boundaryOdds` children
   */
  boundaryOdds: number
  /** at least 2, so that every level has at most half the nodes of the one below */
  minChildren: number
  /** a cap (not content-defined) for long runs without a boundary, such as repeated chunks */
  maxChildren: number
}

/**
 * hubless's DAG parameters. Each link is ~48 bytes that a client fetches again when its node
 * changes: smaller nodes cost less a change but more levels and nodes; 16 measured best on the
 * VLC pair of `scripts/bench/update-delta.ts` (see packages/appimage/README.md).
 */
export const DAG_LAYOUT: Readonly<ContentDefinedLayoutInit> = Object.freeze({ boundaryOdds: 16, minChildren: 2, maxChildren: 1024 })

function checkInit (init: ContentDefinedLayoutInit): void {
  const { boundaryOdds, minChildren, maxChildren } = init
  if (!Number.isSafeInteger(boundaryOdds) || boundaryOdds < 1 || (boundaryOdds & (boundaryOdds - 1)) !== 0 || boundaryOdds > 2 ** 30) {
    throw new BadLayoutParametersError(`boundaryOdds must be a power of two up to 2^30, got ${boundaryOdds}`)
  }
  if (!Number.isSafeInteger(minChildren) || minChildren < 2 || !Number.isSafeInteger(maxChildren) || maxChildren < minChildren) {
    throw new BadLayoutParametersError(`children bounds must be integers with 2 <= minChildren <= maxChildren, got ${minChildren} and ${maxChildren}`)
  }
}

/** The last four bytes of the child's multihash digest (uniform for SHA-256) as an unsigned integer */
function digestTail (child: InProgressImportResult): number {
  const d = child.cid.multihash.digest
  let v = 0
  for (let i = Math.max(0, d.length - 4); i < d.length; i++) v = ((v << 8) | d[i]!) >>> 0
  return v
}

/**
 * A UnixFS file layout for `ipfs-unixfs-importer` whose node boundaries depend on the children's
 * CIDs only (see the module comment). It streams: each level keeps its open node's children,
 * so memory grows with the tree's height, not the file's length.
 */
export function contentDefinedLayout (init: ContentDefinedLayoutInit = DAG_LAYOUT): FileLayout {
  checkInit(init)
  const mask = init.boundaryOdds - 1
  return async function layout (source, reduce: Reducer) {
    // open[level]: children of that level's open node; closed[level]: nodes it has closed
    const open: InProgressImportResult[][] = []
    const closed: number[] = []

    async function close (level: number): Promise<void> {
      const node = await reduce(open[level]!)
      open[level] = []
      closed[level] = (closed[level] ?? 0) + 1
      await add(level + 1, node)
    }

    async function add (level: number, child: InProgressImportResult): Promise<void> {
      open[level] ??= []
      const children = open[level]
      children.push(child)
      if (children.length === init.maxChildren || (children.length >= init.minChildren && (digestTail(child) & mask) === 0)) {
        await close(level)
      }
    }

    for await (const leaf of source) await add(0, leaf)
    if (open.length === 0) return await reduce([])
    for (let level = 0; ; level++) {
      const children = open[level] ?? []
      // the top: a level whose every child is still open; it is the root once it holds one
      if (level === open.length - 1 && (closed[level] ?? 0) === 0) {
        if (children.length !== 1) {
          await close(level)
          continue
        }
        // a file of one chunk is that chunk, as with the balanced layout
        return level === 0 ? await reduce(children) : children[0]!
      }
      if (children.length > 0) await close(level)
    }
  }
}
