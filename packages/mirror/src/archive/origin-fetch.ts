import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open, rm, stat } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { logger } from '@libp2p/logger'
import {
  OriginError, OriginGoneError, OriginHttpError, OriginServedHtmlError, OriginTimeoutError, OriginTooLargeError, OriginUnreachableError,
  TooManyRedirectsError
} from '../errors.ts'

const log = logger('hubless:cli:archive:fetch')

export interface OriginFetchInit {
  /** ms to wait for an answer's headers; default 30 000 */
  headersTimeout?: number
  /** ms a transfer may stay silent; default 30 000 */
  idleTimeout?: number
  /** redirects followed at most; default 5 */
  maxRedirects?: number
  /** requests at once to one host; default 2 */
  perHost?: number
  /** a Retry-After up to this many ms is waited out; a longer one makes the fetch fail with `retryAt`. Default 60 000 */
  maxRetryWait?: number
  /** the fetch to use; default globalThis.fetch */
  fetch?: typeof globalThis.fetch
}

export interface FetchToFileOptions {
  signal: AbortSignal
  /** the most bytes the file may be */
  maxBytes: number
  /** validators of an earlier fetch: a 304 answer resolves `{ notModified: true }` */
  etag?: string
  lastModified?: string
  /** how a web page starts (refused with `OriginServedHtmlError`); default: HTML, XML or a comment, none of which an AppImage is. Images pass {@link PAGE_START}, as an SVG is XML */
  pageStart?: RegExp
}

export interface FetchedFile {
  notModified: boolean
  /** the URL that answered, after redirects */
  finalUrl: string
  size: number
  sha256: string
  /** hex SHA-1 of the file (what a `.zsync` header names) */
  sha1: string
  etag?: string
  lastModified?: string
  /** a cut transfer was resumed with a Range request */
  resumed: boolean
}

export interface FetchTextOptions {
  signal: AbortSignal
  /** the most bytes read; past them the answer is cut (`complete: false`) */
  maxBytes: number
  /** stop reading once the text holds this (a `.zsync` header ends at its first blank line) */
  until?: string
  headers?: Record<string, string>
  /** validators of an earlier answer: a 304 resolves `{ notModified: true }` */
  etag?: string
  lastModified?: string
}

export interface FetchedText {
  notModified: boolean
  finalUrl: string
  text: string
  /** false when `maxBytes` cut the answer before it ended (or before `until`) */
  complete: boolean
  contentType: string
  etag?: string
  lastModified?: string
}

export interface OriginFetcher {
  /** fetch `url` into `file` (resuming a `file` left by a cut transfer), checked against the bounds */
  fetchToFile (url: string, file: string, options: FetchToFileOptions): Promise<FetchedFile>
  /** a small answer (a `.zsync` header, an API's JSON) as text, bounded like a file; HTML is refused */
  fetchText (url: string, options: FetchTextOptions): Promise<FetchedText>
}

/** At most `perHost` requests at once per host; the others wait their turn */
function hostSlots (perHost: number): (host: string, signal: AbortSignal) => Promise<() => void> {
  const active = new Map<string, number>()
  const waiting = new Map<string, Array<() => void>>()
  const release = (host: string): void => {
    const next = waiting.get(host)?.shift()
    if (next != null) {
      next()
      return
    }
    active.set(host, (active.get(host) ?? 1) - 1)
  }
  return async (host, signal) => {
    if ((active.get(host) ?? 0) < perHost) {
      active.set(host, (active.get(host) ?? 0) + 1)
    } else {
      await new Promise<void>((resolve, reject) => {
        const list = waiting.get(host) ?? []
        const go = (): void => { signal.removeEventListener('abort', stop); resolve() }
        const stop = (): void => {
          const at = list.indexOf(go)
          if (at >= 0) list.splice(at, 1)
          reject(signal.reason)
        }
        list.push(go)
        waiting.set(host, list)
        signal.addEventListener('abort', stop, { once: true })
      })
    }
    let released = false
    return () => {
      if (!released) release(host)
      released = true
    }
  }
}

/** Retry-After as ms from now: delta-seconds or an HTTP date */
export function retryAfterMs (value: string | null, now = Date.now()): number | undefined {
  if (value == null) return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

function describeCause (err: unknown): string {
  const cause = (err as { cause?: { code?: string, message?: string } }).cause
  return cause?.code ?? cause?.message ?? (err as Error).message
}

async function hashFile (path: string): Promise<{ sha256: string, sha1: string }> {
  const sha256 = createHash('sha256')
  const sha1 = createHash('sha1')
  for await (const chunk of createReadStream(path)) {
    sha256.update(chunk as Buffer)
    sha1.update(chunk as Buffer)
  }
  return { sha256: sha256.digest('hex'), sha1: sha1.digest('hex') }
}

/** A rate limit answer (GitHub's 403/429 with `x-ratelimit-remaining: 0`): ms from now until its reset */
function rateLimitWait (response: Response, now = Date.now()): number | undefined {
  if (response.status !== 403 && response.status !== 429) return undefined
  if (response.headers.get('x-ratelimit-remaining') !== '0') return undefined
  const reset = Number(response.headers.get('x-ratelimit-reset'))
  return Number.isFinite(reset) && reset > 0 ? Math.max(0, reset * 1000 - now) : 3600_000
}

const HTML_START = /^\s*<(!doctype|html|head|body|\?xml|!--)/i
/** the start of an HTML page, not of an XML document such as an SVG image */
export const PAGE_START = /^\s*<(!doctype\s+html|html|head|body)[\s>]/i

/**
 * Fetches files from origins that may be slow, endless, gone, redirecting in circles or serving
 * something else: bounded redirects (followed by hand, each hop counted), headers and idle
 * timeouts, a size cap, a per-host limit, Retry-After respected, and a cut transfer resumed
 * with a Range request. Every failure is an {@link OriginError}.
 */
export function createOriginFetcher (init: OriginFetchInit = {}): OriginFetcher {
  const doFetch = init.fetch ?? globalThis.fetch
  const headersTimeout = init.headersTimeout ?? 30_000
  const idleTimeout = init.idleTimeout ?? 30_000
  const maxRedirects = init.maxRedirects ?? 5
  const maxRetryWait = init.maxRetryWait ?? 60_000
  const slot = hostSlots(init.perHost ?? 2)

  /** one request, following redirects by hand; returns the final answer */
  async function request (url: string, headers: Record<string, string>, signal: AbortSignal): Promise<{ response: Response, finalUrl: string }> {
    let current = url
    for (let hop = 0; ; hop++) {
      const host = new URL(current).host
      const done = await slot(host, signal)
      let response: Response
      // bounds the wait for the headers only: the body has its idle timeout
      const timer = new AbortController()
      const timeout = setTimeout(() => { timer.abort() }, headersTimeout)
      try {
        response = await doFetch(current, { redirect: 'manual', headers, signal: AbortSignal.any([signal, timer.signal]) })
      } catch (err) {
        done()
        signal.throwIfAborted()
        if (timer.signal.aborted) throw new OriginTimeoutError(`${current} sent no answer within ${headersTimeout} ms`)
        const code = describeCause(err)
        if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') throw new OriginGoneError(`${current}: no such host (${code})`)
        throw new OriginUnreachableError(`${current} could not be reached: ${code}`)
      } finally {
        clearTimeout(timeout)
      }
      const location = response.headers.get('location')
      if (response.status >= 300 && response.status < 400 && response.status !== 304 && location != null) {
        done()
        await response.body?.cancel().catch(() => {})
        if (hop + 1 > maxRedirects) throw new TooManyRedirectsError(`${url} redirected more than ${maxRedirects} times (last to ${location.slice(0, 200)})`)
        const next = new URL(location, current)
        if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new OriginHttpError(`${current} redirected to a ${next.protocol} URL`)
        current = next.toString()
        continue
      }
      // the slot is held while the body streams; the caller's reading releases it
      return { response: withRelease(response, done), finalUrl: current }
    }
  }

  async function fetchToFile (url: string, file: string, options: FetchToFileOptions): Promise<FetchedFile> {
    const { signal, maxBytes } = options
    for (let attempt = 0; ; attempt++) {
      let have = await stat(file).then(s => s.size, () => 0)
      if (have > maxBytes) {
        await rm(file, { force: true })
        have = 0
      }
      const headers: Record<string, string> = {}
      if (have > 0) headers.range = `bytes=${have}-`
      else {
        if (options.etag != null) headers['if-none-match'] = options.etag
        if (options.lastModified != null) headers['if-modified-since'] = options.lastModified
      }
      const { response, finalUrl } = await request(url, headers, signal)
      const release = (response as ReleasingResponse).release
      try {
        if (response.status === 304) {
          await response.body?.cancel().catch(() => {})
          return { notModified: true, finalUrl, size: 0, sha256: '', sha1: '', resumed: false }
        }
        if (response.status === 429 || response.status === 503) {
          await response.body?.cancel().catch(() => {})
          const wait = retryAfterMs(response.headers.get('retry-after'))
          if (wait != null && wait <= maxRetryWait && attempt < 2) {
            log('%s asks to retry after %d ms', url, wait)
            release()
            await sleep(wait, undefined, { signal })
            continue
          }
          const error = new OriginHttpError(`${finalUrl} answered ${response.status}${wait == null ? '' : `, retry after ${Math.round(wait / 1000)} s`}`)
          if (wait != null) error.retryAt = Date.now() + wait
          throw error
        }
        if (response.status === 416 && have > 0) {
          // the part file no longer fits what the origin has: start over
          await response.body?.cancel().catch(() => {})
          await rm(file, { force: true })
          continue
        }
        await refuseUnusable(response, finalUrl, 'a file; the catalog links a page, not the AppImage')
        if (response.body == null) throw new OriginHttpError(`${finalUrl} answered ${response.status} without a body`)
        const resumed = response.status === 206 && have > 0
        let done = resumed ? have : 0
        const length = Number(response.headers.get('content-length') ?? Number.NaN)
        if (done + length > maxBytes) {
          await response.body.cancel().catch(() => {})
          throw new OriginTooLargeError(`${finalUrl} announces ${done + length} bytes, more than the ${maxBytes} this mirror archives`)
        }
        await stream(response.body, file, { append: resumed, start: done, maxBytes, url: finalUrl, signal, pageStart: options.pageStart ?? HTML_START }, n => { done = n })
        const result: FetchedFile = { notModified: false, finalUrl, size: done, ...await hashFile(file), resumed }
        const etag = response.headers.get('etag')
        const lastModified = response.headers.get('last-modified')
        if (etag != null) result.etag = etag
        if (lastModified != null) result.lastModified = lastModified
        return result
      } finally {
        release()
      }
    }
  }

  async function fetchText (url: string, options: FetchTextOptions): Promise<FetchedText> {
    const { signal, maxBytes } = options
    const headers: Record<string, string> = { ...options.headers }
    if (options.etag != null) headers['if-none-match'] = options.etag
    if (options.lastModified != null) headers['if-modified-since'] = options.lastModified
    const { response, finalUrl } = await request(url, headers, signal)
    const release = (response as ReleasingResponse).release
    try {
      const validators = { etag: response.headers.get('etag') ?? undefined, lastModified: response.headers.get('last-modified') ?? undefined }
      if (response.status === 304) {
        await response.body?.cancel().catch(() => {})
        return { notModified: true, finalUrl, text: '', complete: true, contentType: '', ...validators }
      }
      const limited = rateLimitWait(response) ?? (response.status === 429 || response.status === 503 ? retryAfterMs(response.headers.get('retry-after')) ?? 60_000 : undefined)
      if (limited != null) {
        await response.body?.cancel().catch(() => {})
        const error = new OriginHttpError(`${finalUrl} answered ${response.status} (rate limited), retry after ${Math.round(limited / 1000)} s`)
        error.retryAt = Date.now() + limited
        throw error
      }
      await refuseUnusable(response, finalUrl, 'the answer asked for')
      if (response.body == null) throw new OriginHttpError(`${finalUrl} answered ${response.status} without a body`)
      const contentType = response.headers.get('content-type') ?? ''
      const reader = response.body.getReader()
      const chunks: Uint8Array[] = []
      let size = 0
      let complete = true
      try {
        while (true) {
          const chunk = await nextChunk(reader, finalUrl, size)
          if (chunk.done) break
          chunks.push(chunk.value)
          size += chunk.value.byteLength
          if (size > maxBytes) {
            complete = false
            break
          }
          if (options.until != null && Buffer.concat(chunks).includes(options.until)) break
          signal.throwIfAborted()
        }
      } catch (err) {
        signal.throwIfAborted()
        if (err instanceof OriginError) throw err
        throw new OriginUnreachableError(`${finalUrl}: the answer broke after ${size} bytes (${describeCause(err)})`)
      } finally {
        await reader.cancel().catch(() => {})
      }
      const text = Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8')
      if (HTML_START.test(text.slice(0, 64))) throw new OriginServedHtmlError(`${finalUrl} served HTML, not the answer asked for`)
      return { notModified: false, finalUrl, text, complete, contentType, ...validators }
    } finally {
      release()
    }
  }

  return { fetchToFile, fetchText }

  /** the next chunk of a body, or an {@link OriginTimeoutError} when it stays silent for the idle timeout */
  async function nextChunk (reader: ReadableStreamDefaultReader<Uint8Array>, url: string, done: number, aborted?: Promise<never>): Promise<ReadableStreamReadResult<Uint8Array>> {
    let timer: NodeJS.Timeout | undefined
    const idle = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new OriginTimeoutError(`${url} stalled: nothing for ${idleTimeout} ms after ${done} bytes`)) }, idleTimeout)
    })
    try {
      return await Promise.race([reader.read(), idle, ...(aborted == null ? [] : [aborted])])
    } finally {
      clearTimeout(timer)
    }
  }

  async function stream (body: ReadableStream<Uint8Array>, file: string, bounds: { append: boolean, start: number, maxBytes: number, url: string, signal: AbortSignal, pageStart: RegExp }, progress: (n: number) => void): Promise<void> {
    const { append, start, maxBytes, url, signal, pageStart } = bounds
    const handle = await open(file, append ? 'a' : 'w')
    const reader = body.getReader()
    let done = start
    let first = !append
    let onAbort = (): void => {}
    const aborted = new Promise<never>((_resolve, reject) => {
      onAbort = () => { reject(signal.reason) }
      if (signal.aborted) onAbort()
      else signal.addEventListener('abort', onAbort, { once: true })
    })
    aborted.catch(() => {})
    try {
      while (true) {
        const chunk = await nextChunk(reader, url, done, aborted)
        if (chunk.done) break
        if (first && chunk.value.byteLength > 0) {
          first = false
          const head = new TextDecoder().decode(chunk.value.subarray(0, 64))
          if (pageStart.test(head)) throw new OriginServedHtmlError(`${url} served HTML, not a file`)
        }
        done += chunk.value.byteLength
        if (done > maxBytes) throw new OriginTooLargeError(`${url} sent more than the ${maxBytes} bytes this mirror archives (an endless or oversized file)`)
        await handle.write(chunk.value)
        progress(done)
      }
    } catch (err) {
      await reader.cancel().catch(() => {})
      // what is over the cap or not a file is dropped; a cut transfer is kept to resume
      if (err instanceof OriginTooLargeError || err instanceof OriginServedHtmlError) await rm(file, { force: true })
      if (err instanceof OriginError) throw err
      signal.throwIfAborted()
      throw new OriginUnreachableError(`${url}: the transfer broke after ${done} bytes (${describeCause(err)}); it resumes from there`)
    } finally {
      signal.removeEventListener('abort', onAbort)
      await handle.close()
    }
  }
}

type ReleasingResponse = Response & { release: () => void }

function withRelease (response: Response, release: () => void): ReleasingResponse {
  return Object.assign(response, { release })
}

/**
 * What no fetch of an origin can use: a file that is gone (404, 410), any other failure, a web page
 * where a file or a machine's answer was asked for. The body is cancelled before the named error.
 */
async function refuseUnusable (response: Response, finalUrl: string, expected: string): Promise<void> {
  const gone = response.status === 404 || response.status === 410
  const type = response.headers.get('content-type') ?? ''
  const html = response.ok && /text\/html|application\/xhtml/i.test(type)
  if (!gone && response.ok && !html) return
  await response.body?.cancel().catch(() => {})
  if (gone) throw new OriginGoneError(`${finalUrl} answered ${response.status}: gone from this origin`)
  if (!response.ok) throw new OriginHttpError(`${finalUrl} answered ${response.status}`)
  throw new OriginServedHtmlError(`${finalUrl} served a web page (${type.slice(0, 60)}), not ${expected}`)
}
