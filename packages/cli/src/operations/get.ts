import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { chmod, open, rename, rm, stat } from 'node:fs/promises'
import { logger } from '@libp2p/logger'
import { isChannel } from '@hubless/registry'
import { AppNotFoundError, DownloadFailedError, SourceLiedError, UntrustedAppError, UsageError } from '../errors.ts'
import { catalogFor } from './catalog-source.ts'
import { defineOperation } from './operation.ts'
import type { OperationContext } from './operation.ts'
import type { ReleaseView, TrustVerdict } from '@hubless/query'

const log = logger('hubless:cli:get')

export interface GetInput {
  appId: string
  channel?: string
  arch?: string
  /** absolute output path; default: the caller names one */
  output: string
  allowUntrusted?: boolean
  /** HTTP trustless gateways to fall back to */
  gateways?: string[]
  /** read the catalog from this mirror over HTTP(S), and fetch through its gateway */
  mirror?: string
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
}

/**
 * Fetches the newest release a reader should get, verified: by CID over libp2p, then trustless
 * gateways (each block checked against its CID), then the record's own URLs (checked against its
 * SHA-256). The file is written beside the target and renamed only once its SHA-256 matches.
 * Blocks already fetched stay in the blockstore and a partial URL download is continued with a
 * Range request, so running `get` again after an interruption resumes.
 */
export const get = defineOperation<GetInput, GetOutput>('get', async (context, input) => {
  const { services, signal } = context
  if (input.channel != null && !isChannel(input.channel)) {
    throw new UsageError(`--channel "${input.channel}" is not one of release, beta, alpha, nightly, continuous`)
  }
  const { catalog, done } = await catalogFor(services, input.mirror, signal)
  // the views are read here; the download below needs nothing more of the catalog
  const app = catalog.app(input.appId)
  const release = catalog.latest(input.appId, { channel: input.channel as ReleaseView['channel'] | undefined, arch: input.arch })
  await done()
  if (app == null) {
    throw new AppNotFoundError(`no app ${input.appId} in the registry (try \`hubless search\`)`)
  }
  if (release == null) {
    throw new AppNotFoundError(`${input.appId} has no usable release on channel ${input.channel ?? 'release'}${input.arch == null ? '' : ` for ${input.arch}`}`)
  }
  const verdict = app.claimants.find(c => c.newest.publisher === release.publisher)?.trust ?? app.trust
  if (verdict.status !== 'trusted' && input.allowUntrusted !== true) {
    throw new UntrustedAppError(`${input.appId} is ${verdict.status}: ${verdict.explanation}; trust its publisher (\`hubless trust add KEY\`) or pass --allow-untrusted`)
  }

  if (release.content.cid == null && release.content.sha256 == null && input.allowUntrusted !== true) {
    throw new UntrustedAppError(`${input.appId} ${release.version} names no CID or SHA-256 (an import from a catalog that had none): its bytes cannot be verified; pass --allow-untrusted to download it anyway`)
  }
  const part = `${input.output}.part`
  const sources: Record<string, number> = {}
  const content = release.content
  let fetched = false
  if (content.cid != null) {
    try {
      // a mirror serves the trustless gateway too
      const gateways = [...(input.gateways ?? []), ...(input.mirror != null ? [input.mirror] : [])]
      await fetchByCid(context, content.cid, content.size, part, gateways, sources)
      fetched = true
    } catch (err) {
      signal.throwIfAborted()
      log('fetching %s by CID failed: %e', content.cid, err)
      if (content.urls.length === 0) throw new DownloadFailedError(`could not fetch ${content.cid} from peers or gateways: ${(err as Error).message}`)
    }
  }
  if (!fetched) {
    await fetchByUrl(context, content.urls, content.size, content.sha256, part)
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
    verified: content.cid != null || content.sha256 != null
  }
})

async function fetchByCid ({ services, signal, onProgress }: OperationContext, cid: string, size: number | undefined, part: string, gateways: string[], sources: Record<string, number>): Promise<void> {
  let blocks = 0
  const result = await services.node.content.fetch(cid, {
    signal,
    gateways,
    onProgress: event => {
      if (event.type === 'hubless:fetch:block') {
        blocks++
        onProgress?.({ phase: `fetching blocks (${event.detail.source})`, done: blocks, unit: 'items' })
      }
    }
  })
  Object.assign(sources, result.sources)
  const file = await open(part, 'w')
  try {
    let done = 0
    for await (const chunk of services.node.content.cat(cid, { signal, offline: true })) {
      await file.write(chunk)
      done += chunk.byteLength
      onProgress?.({ phase: 'writing', done, total: size })
    }
  } finally {
    await file.close()
  }
}

/** Each URL's file is checked against the record's SHA-256 before it counts, so a lying mirror's file is dropped and the next URL is tried */
async function fetchByUrl ({ signal, onProgress }: OperationContext, urls: string[], size: number | undefined, sha256: string | undefined, part: string): Promise<void> {
  const errors: string[] = []
  for (const url of urls) {
    const have = await stat(part).then(s => s.size, () => 0)
    try {
      const response = await fetch(url, { signal, headers: have > 0 ? { range: `bytes=${have}-` } : {} })
      if (!response.ok || response.body == null) throw new Error(`HTTP ${response.status}`)
      const resumed = response.status === 206
      const file = await open(part, resumed ? 'a' : 'w')
      let done = resumed ? have : 0
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          done += chunk.byteLength
          if (size != null && done > size) throw new SourceLiedError(`served more than the record's ${size} bytes`)
          await file.write(chunk)
          onProgress?.({ phase: `downloading ${new URL(url).host}`, done, total: size })
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
      // lying source sent is dropped, so nothing of it is resumed from anywhere
      if (err instanceof SourceLiedError) await rm(part, { force: true })
    }
  }
  throw new DownloadFailedError(`no source served the file: ${errors.join('; ') || 'the record has no URLs'}`)
}

async function hashFile (path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}
