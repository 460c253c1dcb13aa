import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { logger } from '@libp2p/logger'
import { EPOCH_HEADER, POSITION_HEADER } from '@hubless/query'
import { recordToJSON } from '@hubless/registry'
import { streamCompressor } from './encoded-answer.ts'
import { ServerBusyError } from './errors.ts'
import { acceptedCoding } from './send-answer.ts'
import type { Registry, SignedRecord } from '@hubless/registry'
import type { IncomingMessage, ServerResponse } from 'node:http'

const log = logger('hubless:mirror:record-feed')

/** lines read with one LevelDB iterator and written as one chunk, between two turns of the event loop */
const PIECE_LINES = 500
/** a piece's first buffer: 500 lines of about 1 KiB */
const PIECE_BYTES = 640 * 1024
/** feeds streamed at once; one more is refused with ServerBusyError (503 and Retry-After) */
const DEFAULT_MAX_STREAMS = 8
const NDJSON_TYPE = 'application/x-ndjson; charset=utf-8'

/** a signed record as a line of the feed: its JSON form (`recordToJSON`) and a newline */
function line (signed: SignedRecord): string {
  return `${JSON.stringify(recordToJSON(signed))}\n`
}

/**
 * A piece's lines as bytes, each written as it is made: the line strings die young, and the
 * piece waiting for the socket is one buffer outside the JS heap rather than a rope of 500
 * strings the young generation promotes (a million-line feed grew the old generation by a GB)
 */
class PieceWriter {
  #buf = Buffer.allocUnsafe(PIECE_BYTES)
  #size = 0

  write (text: string): void {
    const most = text.length * 3
    if (this.#size + most > this.#buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#size + most))
      this.#buf.copy(grown, 0, 0, this.#size)
      this.#buf = grown
    }
    this.#size += this.#buf.write(text, this.#size)
  }

  done (): Buffer {
    return this.#buf.subarray(0, this.#size)
  }
}

export interface RecordFeedInit {
  /** feeds streamed at once; default 8 */
  maxStreams?: number
}

/**
 * A log's records as a feed: one signed record per line (the form of `/api/v1/records/{id}`), a
 * line per entry of the log in the order entries entered it, from the entry after `after` on, up
 * to the log's position when the request came. An entry that carries a record an earlier one did
 * repeats its line (readers skip records they hold), so that line N is the log's position N and
 * `?after=N` starts there without reading the N before. The order's name (`x-hubless-epoch`) is
 * the record index's, which outlives restarts: a reader's cursor stays good until the index is
 * rebuilt.
 *
 * Streamed, never held whole (a million records are ~1.5 GB of JSON): pieces of 500 lines, each
 * read with an iterator of its own and written as the client takes them, compressed as they go
 * when the client accepts br or gzip.
 */
export interface RecordFeed {
  send (req: IncomingMessage, res: ServerResponse, after: number): Promise<void>
  /**
   * The log's live set (`Registry.liveSet`): every trust record and yank and each publisher's
   * newest release per slot, one per line like the feed, for a reader that wants today's catalog
   * before (or instead of) the history. `x-hubless-position` names the feed's position when it was
   * read: the feed's lines after it are newer, so a reader that skips the history polls from there.
   */
  sendLive (req: IncomingMessage, res: ServerResponse): Promise<void>
}

export function createRecordFeed (source: Pick<Registry, 'entries' | 'position' | 'liveSet'>, init: RecordFeedInit = {}): RecordFeed {
  const maxStreams = init.maxStreams ?? DEFAULT_MAX_STREAMS
  let streams = 0

  async function * pieces (index: string, after: number, through: number, signal: AbortSignal): AsyncGenerator<Buffer> {
    let at = after
    while (at < through) {
      const piece = new PieceWriter()
      let lines = 0
      for await (const { position, signed } of source.entries({ after: { index, seq: at }, signal })) {
        if (position.seq > through) break
        piece.write(line(signed))
        at = position.seq
        if (++lines === PIECE_LINES) break
      }
      if (lines === 0) return
      yield piece.done()
      await nextTurn()
    }
  }

  /** the live set in pieces of PIECE_LINES lines, a turn of the event loop between two */
  async function * livePieces (signal: AbortSignal): AsyncGenerator<Buffer> {
    let piece = new PieceWriter()
    let lines = 0
    for await (const signed of source.liveSet({ signal })) {
      piece.write(line(signed))
      if (++lines < PIECE_LINES) continue
      yield piece.done()
      piece = new PieceWriter()
      lines = 0
      await nextTurn()
    }
    if (lines > 0) yield piece.done()
  }

  /** stream what `body` makes, compressed as the client accepts; at most `maxStreams` at once */
  async function stream (req: IncomingMessage, res: ServerResponse, headers: Record<string, string>, body: (signal: AbortSignal) => AsyncIterable<Buffer>, what: string): Promise<void> {
    if (streams >= maxStreams) throw new ServerBusyError(`the server is busy (${streams} record feeds streaming); retry in a few seconds`)
    streams++
    const coding = acceptedCoding(req.headers['accept-encoding'])
    const abort = new AbortController()
    try {
      res.writeHead(200, coding === 'identity' ? headers : { ...headers, 'content-encoding': coding })
      const readable = Readable.from(body(abort.signal), { objectMode: false })
      const compressor = streamCompressor(coding)
      await (compressor == null ? pipeline(readable, res) : pipeline(readable, compressor, res))
    } catch (err) {
      // the client left, or the log could not be read: the reader resumes from the lines it has
      log('%s ended early: %s', what, (err as Error).message)
      abort.abort()
      res.destroy()
    } finally {
      streams--
    }
  }

  return {
    async send (req, res, after) {
      const { index, seq: through } = source.position()
      const headers: Record<string, string> = { 'content-type': NDJSON_TYPE, 'cache-control': 'no-cache', vary: 'Accept-Encoding', [EPOCH_HEADER]: index }
      if (req.method === 'HEAD' || after >= through) {
        // a HEAD's length is not known without reading the records: none is sent
        res.writeHead(200, req.method === 'HEAD' ? headers : { ...headers, 'content-length': '0' })
        res.end()
        return
      }
      await stream(req, res, headers, signal => pieces(index, after, through, signal), `feed after ${after}`)
    },

    async sendLive (req, res) {
      // the position first: what enters the log while the live set is read comes again after it
      const { index, seq } = source.position()
      const headers: Record<string, string> = { 'content-type': NDJSON_TYPE, 'cache-control': 'no-cache', vary: 'Accept-Encoding', [EPOCH_HEADER]: index, [POSITION_HEADER]: String(seq) }
      if (req.method === 'HEAD') {
        res.writeHead(200, headers)
        res.end()
        return
      }
      await stream(req, res, headers, livePieces, 'live set')
    }
  }
}
