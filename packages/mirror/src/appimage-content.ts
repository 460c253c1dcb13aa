import { createSquashfsChunker, readPlannedChunks } from '@hubless/appimage'
import type { Chunker, HublessNode } from '@hubless/net'
import type { CID } from 'multiformats/cid'

export interface AddAppImageOptions {
  signal: AbortSignal
  /** bytes read so far */
  onBytes?: (bytes: number) => void
  /** pin the DAG (publish) */
  pin?: boolean
}

export interface AppImageChunking {
  chunker: Chunker
  /** where it will cut (each chunk's end), when the image could be mapped; content-defined cuts are known only by reading */
  cuts?: number[]
}

/**
 * The one way hubless cuts an AppImage into blocks: at SquashFS block boundaries. Publish adds
 * with it; update reads the installed file with it (as `fetchFile`'s seed), so that the
 * installed file's chunks have the CIDs of the published release's identical ones, and an update
 * fetches only the blocks that changed.
 */
export async function appImageChunking (file: string, options: { signal?: AbortSignal } = {}): Promise<AppImageChunking> {
  const chunker = await createSquashfsChunker(file, { signal: options.signal })
  return { chunker, cuts: chunker.plan.cuts }
}

/** Chunks given whole (by `readPlannedChunks`) are passed on as they are */
const asGiven: Chunker = source => source

/**
 * Adds an AppImage to the blockstore, cut by {@link appImageChunking}, UnixFS with the node's DAG
 * parameters. An image whose cuts are planned is read chunk by chunk, each into a buffer of its
 * own, which the add frees once the chunk is written (`ownBuffers`)
 */
export async function addAppImageContent ({ node }: { node: Pick<HublessNode, 'content'> }, file: string, options: AddAppImageOptions): Promise<CID> {
  const { chunker, cuts } = await appImageChunking(file, { signal: options.signal })
  return node.content.add(cuts == null ? file : readPlannedChunks(file, cuts, { signal: options.signal }), {
    ownBuffers: true,
    chunker: cuts == null ? chunker : asGiven,
    signal: options.signal,
    pin: options.pin,
    onProgress: event => {
      if (event.type === 'hubless:content:bytes') options.onBytes?.(event.detail.bytes)
    }
  })
}
