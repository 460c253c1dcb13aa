import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { chmod, open, rename, rm, stat } from 'node:fs/promises'
import { logger } from '@libp2p/logger'
import { ContentTooLargeError, dagAllowance } from '@hubless/net'
import { isChannel } from '@hubless/registry'
import { AppNotFoundError, DownloadFailedError, DownloadTooLargeError, SourceLiedError, UntrustedAppError, UsageError } from '../errors.ts'
import { formatBytes } from '../output.ts'
import { catalogFor } from './catalog-source.ts'
import { witnessesFor } from './witness-source.ts'
import { defineOperation } from './operation.ts'
import type { OperationContext } from './operation.ts'
import { chooseDownload } from '@hubless/query'
import type { ReleaseView, TrustVerdict } from '@hubless/query'

const log = logger('hubless:cli:get')

export interface GetInput {
  appId: string
  /** an exact version (`hubless get APP@VERSION`); default the newest */
  version?: string
  channel?: string
  arch?: string
  /** absolute output path; default: the caller names one */
  output: string
  allowUntrusted?: boolean
  /** HTTP trustless gateways to fall back to */
  gateways?: string[]
  /** read the catalog from this mirror over HTTP(S), and fetch through its gateway */
  mirror?: string
  /** the most a download may be when the record names no size (older records); default {@link DEFAULT_MAX_DOWNLOAD_BYTES} */
  maxBytes?: number
}

/** 8 GiB: larger than any AppImage we know of, small enough that an endless source cannot fill a disk */
export const DEFAULT_MAX_DOWNLOAD_BYTES = 8 * 1024 ** 3

/**
 * How many bytes a download may reach: the record's size when it names one (a source sending more
 * is lying), otherwise the caller's cap
 */
interface Limit {
  bytes: number
  declared: boolean
}

export interface GetOutput {
  appId: string
  version: string
  channel: string
  arch: string
  path: string
  size: number
  sha256: string
  cid?: string
  trust: TrustVerdict
  /** blocks per source (`local`, `peers`, a gateway URL), or `url` for a plain HTTP download */
  sources: Record<string, number>
  /** false only for a record with neither CID nor SHA-256 (URL-only imports): nothing to check the bytes against */
  verified: boolean
  /** the trusted witness keys whose witnessed CID and SHA-256 the file was fetched and checked by (an imported release or a tracked version) */
  witnessedBy?: string[]
  /** a version mirrors witnessed upstream that no release record names */
  tracked?: true
}

/**
 * Fetches the newest release a reader should get, verified: by CID over libp2p, then trustless
 * gateways (each block checked against its CID), then the record's own URLs (checked against its
 * SHA-256). The file is written beside the target and renamed only once its SHA-256 matches.
 * Blocks already fetched stay in the blockstore and a partial URL download is continued with a
 * Range request, so running `get` again after an interruption resumes. No download grows past the
 * record's size, or, for a record that names none, past `maxBytes` (`DownloadTooLargeError`).
 */
export const get = defineOperation<GetInput, GetOutput, 'get'>('get', async (context, input) => {
  const { services, signal } = context
  if (input.channel != null && !isChannel(input.channel)) {
    throw new UsageError(`--channel "${input.channel}" is not one of release, beta, alpha, nightly, continuous`)
  }
  const maxBytes = input.maxBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new UsageError(`--max-size ${String(input.maxBytes)} is not a whole number of bytes of at least 1`)
  }
  const { catalog, done } = await catalogFor(services, input.mirror, signal)
  // the views are read here; the download below needs nothing more of the catalog
  const app = catalog.app(input.appId)
  const query = { channel: input.channel as ReleaseView['channel'] | undefined, arch: input.arch, version: input.version }
  let download: ReturnType<typeof chooseDownload>
  try {
    const latest = catalog.latest(input.appId, query)
    // an author's release needs no witnesses (the witness source opens only when it can matter)
    const witnesses = latest != null && latest.imported == null && input.version == null ? undefined : await witnessesFor(services, input.mirror, signal)
    download = chooseDownload(catalog, witnesses, input.appId, query)
  } finally {
    await done()
  }
  if (app == null) {
    throw new AppNotFoundError(`no app ${input.appId} in the registry (try \`hubless search\`)`)
  }
  if (download == null) {
    throw new AppNotFoundError(`${input.appId} has no usable ${input.version == null ? 'release' : `version ${input.version}`} on channel ${input.channel ?? 'release'}${input.arch == null ? '' : ` for ${input.arch}`}`)
  }
  const { release, trust: verdict } = download
  const vouched = download.witnessedBy
  if (!download.trusted && input.allowUntrusted !== true) {
    throw new UntrustedAppError(`${input.appId} is not from a publisher you trust (${verdict.explanation}); trust its publisher (\`hubless trust add KEY\`), a mirror that witnessed it (\`hubless trust add KEY --witness\`), or pass --allow-untrusted`)
  }

  if (release.content.cid == null && release.content.sha256 == null && input.allowUntrusted !== true) {
    throw new UntrustedAppError(`${input.appId} ${release.version} names no CID or SHA-256 (an import from a catalog that had none): its bytes cannot be verified; pass --allow-untrusted to download it anyway`)
  }
  const part = `${input.output}.part`
  const sources: Record<string, number> = {}
  const content = release.content
  const limit: Limit = content.size != null ? { bytes: content.size, declared: true } : { bytes: maxBytes, declared: false }
  let fetched = false
  if (content.cid != null) {
    try {
      // a mirror serves the trustless gateway too
      const gateways = [...(input.gateways ?? []), ...(input.mirror != null ? [input.mirror] : [])]
      await fetchByCid(context, content.cid, limit, part, gateways, sources)
      fetched = true
    } catch (err) {
      signal.throwIfAborted()
      log('fetching %s by CID failed: %e', content.cid, err)
      // a CID names its bytes, so every source would serve the same too many of them
      if (err instanceof DownloadTooLargeError) throw new DownloadTooLargeError(`${err.message}: ${RAISE_LIMIT}`)
      if (content.urls.length === 0) throw new DownloadFailedError(`could not fetch ${content.cid} from peers or gateways: ${(err as Error).message}`)
    }
  }
  if (!fetched) {
    await fetchByUrl(context, content.urls, limit, content.sha256, part)
    sources.url = 1
  }

  const sha256 = await hashFile(part)
  if (content.sha256 != null && sha256 !== content.sha256) {
    await rm(part, { force: true })
    throw new DownloadFailedError(`the file's SHA-256 ${sha256} does not match the record's ${content.sha256}; nothing was written`)
  }
  await chmod(part, 0o755)
  await rename(part, input.output)
  const { size } = await stat(input.output)
  return {
    appId: input.appId,
    version: release.version,
    channel: release.channel,
    arch: release.arch,
    path: input.output,
    size,
    sha256,
    cid: content.cid,
    trust: verdict,
    sources,
    verified: content.cid != null || content.sha256 != null,
    ...(vouched == null ? {} : { witnessedBy: vouched }),
    ...(download.tracked ? { tracked: true } : {})
  }
})

async function fetchByCid ({ services, signal, onProgress }: OperationContext, cid: string, limit: Limit, part: string, gateways: string[], sources: Record<string, number>): Promise<void> {
  let blocks = 0
  const result = await services.node.content.fetch(cid, {
    signal,
    gateways,
    maxBytes: dagAllowance(limit.bytes),
    onProgress: event => {
      if (event.type === 'hubless:fetch:block') {
        blocks++
        onProgress?.({ phase: `fetching blocks (${event.detail.source})`, done: blocks, unit: 'items' })
      }
    }
  }).catch((err: unknown) => {
    throw err instanceof ContentTooLargeError ? overLimit(limit, `${cid} is larger`) : err
  })
  Object.assign(sources, result.sources)
  const file = await open(part, 'w')
  try {
    let done = 0
    for await (const chunk of services.node.content.cat(cid, { signal, offline: true })) {
      done += chunk.byteLength
      if (done > limit.bytes) throw overLimit(limit, `${cid} is larger`)
      await file.write(chunk)
      onProgress?.({ phase: 'writing', done, total: limit.declared ? limit.bytes : undefined })
    }
  } catch (err) {
    await file.close()
    await rm(part, { force: true })
    throw err
  }
  await file.close()
}

/** The error for bytes past the limit: a source lying about the record's size, or a file over the cap */
function overLimit (limit: Limit, what: string): Error {
  if (limit.declared) return new SourceLiedError(`${what} than the record's size of ${limit.bytes} bytes`)
  return new DownloadTooLargeError(`${what} than the limit of ${formatBytes(limit.bytes)} (${limit.bytes} bytes)`)
}

const RAISE_LIMIT = 'the record names no size, so a download stops at this limit and nothing of it is kept; if you expect a file this large, raise the limit with --max-size SIZE (e.g. --max-size 16G)'

/**
 * Each URL's file is checked against the record's SHA-256 before it counts, so a lying mirror's file
 * is dropped and the next URL is tried; so is one that sends more than the limit, its transfer cut
 * at the limit
 */
async function fetchByUrl ({ signal, onProgress }: OperationContext, urls: string[], limit: Limit, sha256: string | undefined, part: string): Promise<void> {
  const errors: string[] = []
  let tooLarge = false
  for (const url of urls) {
    let have = await stat(part).then(s => s.size, () => 0)
    if (have > limit.bytes) {
      // left by a run with a higher limit: none of it can be kept under this one
      await rm(part, { force: true })
      have = 0
    }
    try {
      const response = await fetch(url, { signal, headers: have > 0 ? { range: `bytes=${have}-` } : {} })
      if (!response.ok || response.body == null) throw new Error(`HTTP ${response.status}`)
      const resumed = response.status === 206
      let done = resumed ? have : 0
      const length = Number(response.headers.get('content-length') ?? Number.NaN)
      if (done + length > limit.bytes) {
        await response.body.cancel()
        throw overLimit(limit, `announced ${done + length} bytes, more`)
      }
      const file = await open(part, resumed ? 'a' : 'w')
      try {
        // leaving the loop early (a throw) cancels the body, which ends the transfer
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          done += chunk.byteLength
          if (done > limit.bytes) throw overLimit(limit, 'sent more')
          await file.write(chunk)
          onProgress?.({ phase: `downloading ${new URL(url).host}`, done, total: limit.declared ? limit.bytes : undefined })
        }
      } finally {
        await file.close()
      }
      if (sha256 != null && await hashFile(part) !== sha256) throw new SourceLiedError('served a file whose SHA-256 does not match the record')
      return
    } catch (err) {
      signal.throwIfAborted()
      errors.push(`${url}: ${(err as Error).message}`)
      // a cut transfer is kept and resumed (next URL or next run, with a Range request); what a
      // lying source sent, or one past the limit, is dropped, so nothing of it is resumed from anywhere
      if (err instanceof SourceLiedError || err instanceof DownloadTooLargeError) await rm(part, { force: true })
      if (err instanceof DownloadTooLargeError) tooLarge = true
    }
  }
  if (tooLarge) throw new DownloadTooLargeError(`no source served the file within the limit: ${errors.join('; ')}; ${RAISE_LIMIT}`)
  throw new DownloadFailedError(`no source served the file: ${errors.join('; ') || 'the record has no URLs'}`)
}

async function hashFile (path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}
