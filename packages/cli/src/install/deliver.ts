import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { chmod, rm, stat } from 'node:fs/promises'
import { dagAllowance } from '@hubless/net'
import { logger } from '@libp2p/logger'
import * as raw from 'multiformats/codecs/raw'
import { DownloadFailedError, DownloadTooLargeError } from '../errors.ts'
import { DEFAULT_MAX_DOWNLOAD_BYTES } from '../operations/get.ts'
import { appImageChunking } from '@hubless/mirror'
import type { OperationContext } from '../operations/operation.ts'
import type { Chunker, FetchFileResult, FileSeed } from '@hubless/net'
import type { ReleaseContent } from '@hubless/registry'

const log = logger('hubless:cli:deliver')

export interface Delivery {
  /** the verified file, executable, beside the target: `TARGET.part` */
  part: string
  sha256: string
  size: number
  /** bytes of blocks fetched from peers or gateways */
  bytesFetched: number
  /** of `bytesFetched`, the bytes of DAG nodes: the file's list of blocks, which zsync keeps in its control file */
  nodeBytesFetched: number
  /** bytes of blocks found locally (in the installed file, or in the blockstore from an interrupted run) */
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
  /** the CID that installed version had: its DAG's nodes, which install keeps, say where its blocks lie */
  installedCid?: string
  gateways: string[]
}

/**
 * Fetches a release's file by CID and writes it beside its target, verified by CID (each block)
 * and SHA-256 (the file). The installed version is read once with publish's chunker, and its
 * chunks that are blocks of the release are written straight into place, so only the blocks that
 * changed cross the network, by byte ranges from mirrors (many blocks a request). What was
 * fetched stays in `TARGET.part` after an interruption: the next run checks it and resumes.
 */
export async function deliver (context: OperationContext, init: DeliverInit): Promise<Delivery> {
  const { services, signal, onProgress } = context
  const { content } = init
  // where the installed file is cut is worked out while the release's DAG nodes load
  const seeding = init.installed == null ? undefined : seedOf(init.installed, init.installedCid, signal)
  let seedSize: number | undefined

  // the record's size bounds what is fetched and written, as for `hubless get`
  const limit = content.size ?? DEFAULT_MAX_DOWNLOAD_BYTES
  const part = `${init.target}.part`
  const sources: Record<string, number> = {}
  let bytesFetched = 0
  let nodeBytesFetched = 0
  let bytesReused = 0
  let blocks = 0
  let fetched: FetchFileResult
  try {
    fetched = await services.node.content.fetchFile(content.cid, part, {
      signal,
      gateways: init.gateways,
      maxBytes: dagAllowance(limit),
      seed: seeding?.then(found => {
        seedSize = found?.size
        return found?.seed
      }),
      onProgress: event => {
        if (event.type === 'hubless:fetch:seed') {
          onProgress?.({ phase: 'reading the installed version', done: event.detail.bytes, total: seedSize })
        } else if (event.type === 'hubless:fetch:hash') {
          onProgress?.({ phase: 'verifying', done: event.detail.bytes, total: event.detail.total })
        } else if (event.type === 'hubless:fetch:block') {
          const { source, bytes } = event.detail
          sources[source] = (sources[source] ?? 0) + 1
          if (source === 'local') bytesReused += bytes
          else {
            bytesFetched += bytes
            // a file's leaves are raw blocks; the rest are the DAG's nodes
            if (event.detail.cid.code !== raw.code) nodeBytesFetched += bytes
          }
          blocks++
          // blocks found in the installed file are counted, not reported one by one
          if (source !== 'local') onProgress?.({ phase: `fetching blocks (${source})`, done: blocks, unit: 'items' })
        }
      }
    })
  } catch (err) {
    // what the part file holds is where the next run resumes (an interruption, a source that failed)
    signal.throwIfAborted()
    if ((err as Error).name === 'ContentTooLargeError') {
      await rm(part, { force: true })
      throw new DownloadTooLargeError(`${content.cid} is larger than ${limit} bytes; nothing was changed`)
    }
    throw new DownloadFailedError(`could not fetch ${content.cid} from peers or gateways: ${(err as Error).message}`)
  }
  const { size, sha256 } = fetched
  if (size > limit) {
    await rm(part, { force: true })
    throw new DownloadTooLargeError(`the file of ${content.cid} is larger than ${limit} bytes (${content.size == null ? 'the cap for a record without a size' : "the record's size"}); nothing was changed`)
  }
  if ((content.sha256 != null && sha256 !== content.sha256) || (content.size != null && size !== content.size)) {
    await rm(part, { force: true })
    throw new DownloadFailedError(`the file of ${content.cid} (${size} bytes, SHA-256 ${sha256}) does not match the record (${content.size ?? '?'} bytes, ${content.sha256 ?? '?'}); nothing was changed`)
  }
  await chmod(part, 0o755)
  return { part, sha256, size, bytesFetched, nodeBytesFetched, bytesReused, sources }
}

/**
 * The installed file as a seed, cut as publish cuts; none when it is gone or cannot be read. With
 * the CID it was installed as, its cuts are worked out only if its DAG's nodes are not held.
 */
async function seedOf (installed: string, cid: string | undefined, signal: AbortSignal): Promise<{ seed: FileSeed, size: number } | undefined> {
  const size = await stat(installed).then(s => s.isFile() ? s.size : undefined, () => undefined)
  if (size == null) return undefined
  if (cid != null) {
    const chunker: Chunker = source => (async function * () {
      yield * (await appImageChunking(installed, { signal })).chunker(source)
    })()
    return { seed: { path: installed, root: cid, chunker }, size }
  }
  try {
    return { seed: { path: installed, ...await appImageChunking(installed, { signal }) }, size }
  } catch (err) {
    signal.throwIfAborted()
    // a file the user changed beyond reading: nothing reused, the update still works
    log('could not read %s for reuse: %e', installed, err)
    return undefined
  }
}

export async function hashFile (path: string, signal: AbortSignal): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path, { signal })) hash.update(chunk as Buffer)
  return hash.digest('hex')
}
