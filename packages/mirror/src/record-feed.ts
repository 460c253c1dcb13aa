import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { logger } from '@libp2p/logger'
import { EPOCH_HEADER } from '@hubless/query'
import { recordToJSON } from '@hubless/registry'
import { streamCompressor } from './encoded-answer.ts'
import { ServerBusyError } from './errors.ts'
import { acceptedCoding } from './send-answer.ts'
import type { Registry } from '@hubless/registry'
import type { IncomingMessage, ServerResponse } from 'node:http'

const log = logger('hubless:mirror:record-feed')

/** lines read with one LevelDB iterator and written as one chunk, between two turns of the event loop */
const PIECE_LINES = 500
/** feeds streamed at once; one more is refused with ServerBusyError (503 and Retry-After) */
const DEFAULT_MAX_STREAMS = 8
const NDJSON_TYPE = 'application/x-ndjson; charset=utf-8'

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
}

export function createRecordFeed (source: Pick<Registry, 'entries' | 'position'>, init: RecordFeedInit = {}): RecordFeed {
  const maxStreams = init.maxStreams ?? DEFAULT_MAX_STREAMS
  let streams = 0

  async function * pieces (index: string, after: number, through: number, signal: AbortSignal): AsyncGenerator<string> {
    let at = after
    while (at < through) {
      let piece = ''
      let lines = 0
      for await (const { position, signed } of source.entries({ after: { index, seq: at }, signal })) {
        if (position.seq > through) break
        piece += `${JSON.stringify(recordToJSON(signed))}\n`
        at = position.seq
        if (++lines === PIECE_LINES) break
      }
      if (lines === 0) return
      yield piece
      await nextTurn()
    }
  }

  return {
    async send (req, res, after) {
      const { index, seq: through } = source.position()
      const coding = acceptedCoding(req.headers['accept-encoding'])
      const headers: Record<string, string> = { 'content-type': NDJSON_TYPE, 'cache-control': 'no-cache', vary: 'Accept-Encoding', [EPOCH_HEADER]: index }
      if (req.method === 'HEAD' || after >= through) {
        // a HEAD's length is not known without reading the records: none is sent
        res.writeHead(200, req.method === 'HEAD' ? headers : { ...headers, 'content-length': '0' })
        res.end()
        return
      }
      if (streams >= maxStreams) throw new ServerBusyError(`the server is busy (${streams} record feeds streaming); retry in a few seconds`)
      streams++
      const abort = new AbortController()
      try {
        res.writeHead(200, coding === 'identity' ? headers : { ...headers, 'content-encoding': coding })
        const body = Readable.from(pieces(index, after, through, abort.signal), { objectMode: false })
        const compressor = streamCompressor(coding)
        await (compressor == null ? pipeline(body, res) : pipeline(body, compressor, res))
      } catch (err) {
        // the client left, or the log could not be read: the reader resumes from the lines it has
        log('feed after %d ended early: %s', after, (err as Error).message)
        abort.abort()
        res.destroy()
      } finally {
        streams--
      }
    }
  }
}
