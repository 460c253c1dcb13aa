/** The blocks a file becomes in UnixFS (hubless's DAG parameters), to count what a peer must fetch */
import { createReadStream } from 'node:fs'
import { importer } from 'ipfs-unixfs-importer'
import * as raw from 'multiformats/codecs/raw'
import type { FileLayout } from 'ipfs-unixfs-importer/layout'
import type { CID } from 'multiformats/cid'
import { contentDefinedLayout } from '../../../packages/net/src/dag-layout.ts'

export type Chunker = (source: AsyncIterable<Uint8Array>) => AsyncIterable<Uint8Array>

/** Imports a file with the real UnixFS importer and hubless's DAG parameters (CIDv1, raw leaves, the content-defined DAG, as `content.add`, unless `layout` says otherwise); returns its blocks (CID → size) */
export async function importBlocks (path: string, chunker: Chunker, layout: FileLayout = contentDefinedLayout()): Promise<Map<string, number>> {
  const blocks = new Map<string, number>()
  const blockstore = {
    async put (cid: { toString: () => string }, bytes: Uint8Array) {
      blocks.set(cid.toString(), bytes.byteLength)
      return cid
    }
  }
  // biome-ignore lint/suspicious/noExplicitAny: the importer's blockstore type wants a full Blockstore; only put is used
  for await (const _ of importer([{ content: createReadStream(path, { highWaterMark: 1024 * 1024 }) }], blockstore as any, { chunker, rawLeaves: true, cidVersion: 1, layout })) { /* drain */ }
  return blocks
}

/**
 * The DAG nodes (not the raw leaves) of a file as `content.add` builds them: what a node keeps of
 * a release it installed (`fetchFile` stores a DAG's nodes, never its leaves)
 */
export async function installedNodes (path: string, chunker: Chunker): Promise<{ root: CID, nodes: Array<{ cid: CID, bytes: Uint8Array }> }> {
  const nodes: Array<{ cid: CID, bytes: Uint8Array }> = []
  let root: CID | undefined
  const blockstore = {
    async put (cid: CID, bytes: Uint8Array) {
      if (cid.code !== raw.code) nodes.push({ cid, bytes })
      return cid
    }
  }
  // biome-ignore lint/suspicious/noExplicitAny: the importer's blockstore type wants a full Blockstore; only put is used
  for await (const entry of importer([{ content: createReadStream(path, { highWaterMark: 1024 * 1024 }) }], blockstore as any, { chunker, rawLeaves: true, cidVersion: 1, layout: contentDefinedLayout() })) root = entry.cid
  if (root == null) throw new Error(`nothing imported from ${path}`)
  return { root, nodes }
}

/** Bytes of the blocks of `want` that `have` lacks, and those of them that are DAG nodes (not raw leaves) */
export function fetchParts (have: Map<string, number>, want: Map<string, number>): { bytes: number, nodes: number } {
  let bytes = 0
  let nodes = 0
  for (const [cid, size] of want) {
    if (have.has(cid)) continue
    bytes += size
    if (!cid.startsWith('bafkrei')) nodes += size
  }
  return { bytes, nodes }
}

/** Bytes of the blocks of `want` that `have` lacks */
export function fetchBytes (have: Map<string, number>, want: Map<string, number>): number {
  let n = 0
  for (const [cid, size] of want) if (!have.has(cid)) n += size
  return n
}

export function totalBytes (blocks: Map<string, number>): number {
  let n = 0
  for (const size of blocks.values()) n += size
  return n
}
