import { logger } from '@libp2p/logger'
import { recordFromJSON } from '@hubless/registry/records'
import { TypedEventEmitter } from 'main-event'
import { AbortError, HttpSourceError } from './errors.ts'
import type { AbortOptions, CatalogRecord, HttpSource, HttpSourceEvents, HttpSourceInit } from './index.ts'

const log = logger('hubless:query:http-source')

const DEFAULT_POLL_INTERVAL = 30_000
// a signed record is at most 64 KiB of dag-cbor; its JSON form is larger, but not 16 times
const MAX_LINE_CHARS = 1 << 20

/** The header in which a mirror names the order its record feed is in (see the mirror's API) */
export const EPOCH_HEADER = 'x-hubless-epoch'
/** The header in which a mirror's live set (`/api/v1/records/live`) names the feed's position it was read at */
export const POSITION_HEADER = 'x-hubless-position'

/**
 * Records from a mirror's `/api/v1/records` feed (one signed record per line, in the order they
 * entered the mirror's log), each verified here: a mirror is not trusted to have checked them.
 * Where peer-to-peer is blocked (a browser, a firewall), this is how an app store gets the
 * registry. The feed is read in bulk at start, then polled from where the last read ended; when
 * the mirror's order changed (a restart that rebuilt its log cache, or another mirror behind the
 * same URL), the next poll reads from the start again and the catalog skips what it holds.
 */
export class HttpRecordSource extends TypedEventEmitter<HttpSourceEvents> implements HttpSource {
  private readonly feed: URL
  private readonly liveFeed: URL
  private readonly live: boolean
  private readonly history: boolean
  private readonly fetch: typeof globalThis.fetch
  private readonly pollInterval: number
  private cursor = 0
  private epoch: string | undefined
  private timer: ReturnType<typeof setTimeout> | undefined
  private polling: Promise<number> | undefined
  private stopped = false
  private readonly lifetime = new AbortController()

  constructor (init: HttpSourceInit) {
    super()
    let base: URL
    try {
      base = new URL(init.url)
    } catch {
      throw new HttpSourceError(`"${String(init.url).slice(0, 200)}" is not a URL; give a mirror's address, e.g. https://mirror.example.org`)
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new HttpSourceError(`a mirror is reached over http or https, not ${base.protocol}`)
    const root = base.href.endsWith('/') ? base : new URL(`${base.href}/`)
    this.feed = new URL('api/v1/records', root)
    this.liveFeed = new URL('api/v1/records/live', root)
    this.live = init.live ?? true
    this.history = init.history ?? true
    this.fetch = init.fetch ?? globalThis.fetch.bind(globalThis)
    const interval = init.pollInterval ?? DEFAULT_POLL_INTERVAL
    if (!Number.isFinite(interval) || interval < 0) throw new HttpSourceError(`pollInterval must be a number of ms (0: never), not ${String(interval)}`)
    this.pollInterval = interval
  }

  async * records (options: AbortOptions = {}): AsyncGenerator<CatalogRecord> {
    const signal = AbortSignal.any([this.lifetime.signal, ...(options.signal != null ? [options.signal] : [])])
    const position = this.live ? yield * this.readLive(signal) : undefined
    if (position != null && !this.history) {
      // today's catalog without the history: later polls read what the mirror took in since
      this.cursor = position.seq
      this.epoch = position.epoch
    } else {
      yield * this.read(0, signal)
    }
    this.schedule()
  }

  /**
   * The mirror's live set, verified: the feed's position it was read at, or undefined when the
   * mirror has none to give (an older mirror, an error: the whole feed is read instead)
   */
  private async * readLive (signal: AbortSignal): AsyncGenerator<CatalogRecord, { seq: number, epoch: string | undefined } | undefined> {
    let response: Response
    try {
      response = await this.fetch(this.liveFeed, { signal, headers: { accept: 'application/x-ndjson' } })
    } catch (err) {
      if (signal.aborted) throw new AbortError('reading the mirror\'s records was aborted')
      log('no live set from %s: %s', this.liveFeed.href, (err as Error).message)
      return undefined
    }
    // without the position (a server that is no mirror of this version, a header a browser does
    // not expose cross-origin) the lines cannot be placed in the feed: the feed is read instead
    const header = response.headers.get(POSITION_HEADER)
    const seq = header != null && /^\d{1,15}$/.test(header) ? Number(header) : -1
    if (!response.ok || response.body == null || seq < 0) {
      log('no live set from %s (%d)', this.liveFeed.href, response.status)
      await response.body?.cancel().catch(() => {})
      return undefined
    }
    let line = 0
    for await (const text of lines(response.body, signal)) {
      const record = await this.verify(text, ++line, 'live set')
      if (record != null) yield record
    }
    return { seq, epoch: response.headers.get(EPOCH_HEADER) ?? undefined }
  }

  async poll (options: AbortOptions = {}): Promise<number> {
    // one poll at a time: two would read the same lines
    this.polling ??= this.pollOnce(options).finally(() => { this.polling = undefined })
    return this.polling
  }

  private async pollOnce (options: AbortOptions): Promise<number> {
    const signal = AbortSignal.any([this.lifetime.signal, ...(options.signal != null ? [options.signal] : [])])
    let count = 0
    for await (const record of this.read(this.cursor, signal)) {
      this.safeDispatchEvent('record', { detail: record })
      count++
    }
    return count
  }

  stop (): void {
    this.stopped = true
    clearTimeout(this.timer)
    this.lifetime.abort()
  }

  private schedule (): void {
    if (this.stopped || this.pollInterval === 0 || this.timer != null) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.poll().catch((err: Error) => {
        if (!this.stopped) {
          log.error('polling %s failed: %s', this.feed.href, err.message)
          this.safeDispatchEvent('error', { detail: err })
        }
      }).finally(() => { this.schedule() })
    }, this.pollInterval)
    // in Node, a pending poll must not keep the process alive
    const timer = this.timer as { unref?: () => void }
    timer.unref?.()
  }

  /** the feed from line `from` on, verified; advances the cursor over every line read, valid or not */
  private async * read (from: number, signal: AbortSignal): AsyncGenerator<CatalogRecord> {
    const url = new URL(this.feed)
    if (from > 0) url.searchParams.set('after', String(from))
    let response: Response
    try {
      response = await this.fetch(url, { signal, headers: { accept: 'application/x-ndjson' } })
    } catch (err) {
      if (signal.aborted) throw new AbortError('reading the mirror\'s records was aborted')
      throw new HttpSourceError(`cannot reach ${url.href}: ${(err as Error).message}`, { cause: err })
    }
    if (!response.ok || response.body == null) {
      throw new HttpSourceError(`${url.href} answered ${response.status} ${response.statusText}; is it a hubless mirror?`)
    }
    const epoch = response.headers.get(EPOCH_HEADER) ?? undefined
    if (from > 0 && epoch !== this.epoch) {
      // the lines are in another order now: the cursor means nothing, read everything again
      log('%s changed its order (epoch %s -> %s): reading from the start', this.feed.href, this.epoch, epoch)
      await response.body.cancel().catch(() => {})
      this.cursor = 0
      this.epoch = epoch
      yield * this.read(0, signal)
      return
    }
    this.epoch = epoch
    this.cursor = from
    for await (const line of lines(response.body, signal)) {
      this.cursor++
      const record = await this.verify(line, this.cursor)
      if (record != null) yield record
    }
  }

  private async verify (line: string | null, position: number, where: 'feed' | 'live set' = 'feed'): Promise<CatalogRecord | undefined> {
    try {
      if (line == null) throw new HttpSourceError(`line ${position} is over ${MAX_LINE_CHARS} characters long; no record is`)
      const signed = await recordFromJSON(line)
      return { id: signed.id, record: signed.record }
    } catch (err) {
      // a bad record is dropped, not the feed: the mirror may have taken it in from a bad peer
      const error = err as Error
      log.error('dropped record %d of %s: %s', position, where === 'feed' ? this.feed.href : this.liveFeed.href, error.message)
      this.safeDispatchEvent('rejected', { detail: { position, error, ...(where === 'live set' ? { live: true } : {}) } })
      return undefined
    }
  }
}

/**
 * The non-empty lines of a UTF-8 stream; `null` for a line too long to be a record, skipped
 * without holding it (it still counts as a line: the cursor counts what the mirror sent)
 */
async function * lines (body: ReadableStream<Uint8Array>, signal: AbortSignal): AsyncGenerator<string | null> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let pending = ''
  let oversized = false
  const onAbort = (): void => { reader.cancel().catch(() => {}) }
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    while (true) {
      const { done, value } = await reader.read()
      if (signal.aborted) throw new AbortError('reading the mirror\'s records was aborted')
      pending += done ? decoder.decode() : decoder.decode(value, { stream: true })
      let newline = pending.indexOf('\n')
      while (newline >= 0) {
        const line = pending.slice(0, newline).trim()
        pending = pending.slice(newline + 1)
        if (oversized) yield null
        else if (line !== '') yield line
        oversized = false
        newline = pending.indexOf('\n')
      }
      if (pending.length > MAX_LINE_CHARS) {
        oversized = true
        pending = ''
      }
      if (done) break
    }
    if (oversized) yield null
    else if (pending.trim() !== '') yield pending.trim()
  } finally {
    signal.removeEventListener('abort', onAbort)
    reader.releaseLock()
  }
}
