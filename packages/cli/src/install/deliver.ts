import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { chmod, open, rm, stat } from 'node:fs/promises'
import { dagAllowance } from '@hubless/net'
import { logger } from '@libp2p/logger'
import { DownloadFailedError, DownloadTooLargeError } from '../errors.ts'
import { DEFAULT_MAX_DOWNLOAD_BYTES } from '../operations/get.ts'
import { addAppImageContent } from '@hubless/mirror'
import type { OperationContext } from '../operations/operation.ts'
import type { ReleaseContent } from '@hubless/registry'

const log = logger('hubless:cli:deliver')

export interface Delivery {
  /** the verified file, executable, beside the target: `TARGET.part` */
  part: string
  sha256: string
  size: number
  /** bytes of blocks fetched from peers or gateways */
  bytesFetched: number
  /** bytes of blocks found in the local blockstore (the installed file's, or fetched by an interrupted run) */
  bytesReused: number
  /** blocks per source (`local`, `peers`, a gateway URL), as `hubless get` reports them */
  sources: Record<string, number>
}

export interface DeliverInit {
  content: ReleaseContent & { cid: string }
  /** where the file will go; it is written to `${target}.part` */
  target: string
  /** an installed version of the app, whose blocks count as local */
  installed?: string
  gateways: string[]
}

/**
 * Fetches a release's DAG by CID and writes it beside its target, verified by CID (each block)
 * and SHA-256 (the file). Before fetching, the installed version is read with publish's chunker
 * and its blocks are added to the blockstore (unpinned), so only the blocks that changed cross
 * the network. Blocks fetched stay in the blockstore: a second run after an interruption resumes.
 */
export async function deliver (context: OperationContext, init: DeliverInit): Promise<Delivery> {
  const { services, signal, onProgress } = context
  const { content } = init
  if (init.installed != null) {
    const installed = init.installed
    const size = await stat(installed).then(s => s.size, () => undefined)
    if (size != null) {
      try {
        await addAppImageContent(services, installed, {
          signal,
          pin: false,
          onBytes: bytes => { onProgress?.({ phase: 'reading the installed version', done: bytes, total: size }) }
        })
      } catch (err) {
        signal.throwIfAborted()
        // a file the user changed beyond reading: nothing reused, the update still works
        log('could not read %s for reuse: %e', installed, err)
      }
    }
  }

  // the record's size bounds what is fetched and written, as for `hubless get`
  const limit = content.size ?? DEFAULT_MAX_DOWNLOAD_BYTES
  const sources: Record<string, number> = {}
  let bytesFetched = 0
  let bytesReused = 0
  let blocks = 0
  try {
    await services.node.content.fetch(content.cid, {
      signal,
      gateways: init.gateways,
      maxBytes: dagAllowance(limit),
      onProgress: event => {
        if (event.type !== 'hubless:fetch:block') return
        const { source, bytes } = event.detail
        sources[source] = (sources[source] ?? 0) + 1
        if (source === 'local') bytesReused += bytes
        else bytesFetched += bytes
        blocks++
        onProgress?.({ phase: `fetching blocks (${source})`, done: blocks, unit: 'items' })
      }
    })
  } catch (err) {
    signal.throwIfAborted()
    if ((err as Error).name === 'ContentTooLargeError') throw new DownloadTooLargeError(`${content.cid} is larger than ${limit} bytes; nothing was changed`)
    throw new DownloadFailedError(`could not fetch ${content.cid} from peers or gateways: ${(err as Error).message}`)
  }

  const part = `${init.target}.part`
  const hash = createHash('sha256')
  let size = 0
  const file = await open(part, 'w', 0o644)
  try {
    for await (const chunk of services.node.content.cat(content.cid, { signal, offline: true })) {
      size += chunk.byteLength
      if (size > limit) break
      hash.update(chunk)
      await file.write(chunk)
      onProgress?.({ phase: 'writing', done: size, total: content.size })
    }
    await file.sync()
  } finally {
    await file.close()
  }
  if (size > limit) {
    await rm(part, { force: true })
    throw new DownloadTooLargeError(`the file of ${content.cid} is larger than ${limit} bytes (${content.size == null ? 'the cap for a record without a size' : "the record's size"}); nothing was changed`)
  }
  const sha256 = hash.digest('hex')
  if ((content.sha256 != null && sha256 !== content.sha256) || (content.size != null && size !== content.size)) {
    await rm(part, { force: true })
    throw new DownloadFailedError(`the file of ${content.cid} (${size} bytes, SHA-256 ${sha256}) does not match the record (${content.size ?? '?'} bytes, ${content.sha256 ?? '?'}); nothing was changed`)
  }
  await chmod(part, 0o755)
  return { part, sha256, size, bytesFetched, bytesReused, sources }
}

export async function hashFile (path: string, signal: AbortSignal): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path, { signal })) hash.update(chunk as Buffer)
  return hash.digest('hex')
}
