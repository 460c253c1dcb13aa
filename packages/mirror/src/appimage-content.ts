import { createSquashfsChunker } from '@hubless/appimage'
import type { HublessNode } from '@hubless/net'
import type { CID } from 'multiformats/cid'

export interface AddAppImageOptions {
  signal: AbortSignal
  /** bytes read so far */
  onBytes?: (bytes: number) => void
  /** pin the DAG (publish); an installed file's blocks are added unpinned, for reuse only */
  pin?: boolean
}

/**
 * Adds an AppImage to the blockstore the one way hubless does: chunks cut at SquashFS block
 * boundaries, UnixFS with the node's DAG parameters. Publish and update both call this, so the
 * blocks of an installed file have the CIDs of the published release's identical chunks, and an
 * update fetches only the blocks that changed.
 */
export async function addAppImageContent ({ node }: { node: Pick<HublessNode, 'content'> }, file: string, options: AddAppImageOptions): Promise<CID> {
  const chunker = await createSquashfsChunker(file, { signal: options.signal })
  return node.content.add(file, {
    chunker,
    signal: options.signal,
    pin: options.pin,
    onProgress: event => {
      if (event.type === 'hubless:content:bytes') options.onBytes?.(event.detail.bytes)
    }
  })
}
