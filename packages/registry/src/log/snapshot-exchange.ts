import { logger } from '@libp2p/logger'
import { OversizeRecordError, SnapshotPieceError, SnapshotTimeoutError } from '../errors.ts'
import { raceSignal } from './serial.ts'
import { decodeManifest, decodePiece, decodeRequest, encodeManifest, encodeRequest, frameRequest, MAX_MANIFEST_BYTES, MAX_REQUEST_BYTES } from './snapshot-wire.ts'
import type { SnapshotPieces } from './snapshot-pieces.ts'
import type { SnapshotManifest } from './snapshot-wire.ts'
import type { AbortOptions, Libp2p, PeerId, Stream } from '@libp2p/interface'

const log = logger('hubless:registry:snapshot')

/**
 * Snapshot format 2 over libp2p streams (the format: snapshot-wire.ts): one stream per request,
 * the asker sends its request and closes its end, the server answers and closes. Every read is
 * bounded in bytes and in time, and a stream whose bound passes is aborted at once.
 */

/** one answer (a manifest, a piece) that takes longer than this is given up */
export const REQUEST_TIMEOUT = 30_000
/** pieces fetched at once, ahead of the one being imported */
export const PIECE_CONCURRENCY = 4
const SEND_BYTES = 64 * 1024

/**
 * Read what the other side sends: until it closes its end, or (`framed`) one request of a u16
 * length and that many bytes. At most `max` bytes, within the signal's deadline. A request is
 * framed rather than ended by closing our end: an end that arrives with the protocol's
 * negotiation, before the handler listens, is never seen by it (the request waited its whole
 * deadline for an end that had come and gone).
 */
async function readAll (stream: Stream, max: number, what: string, signal: AbortSignal, framed = false): Promise<Uint8Array> {
  let giveUp!: (err: Error) => void
  const gaveUp = new Promise<never>((_resolve, reject) => { giveUp = reject })
  gaveUp.catch(() => {})
  const onAbort = (): void => {
    const err = new SnapshotTimeoutError(`${what} took longer than ${REQUEST_TIMEOUT} ms`)
    giveUp(err)
    stream.abort(err)
  }
  signal.addEventListener('abort', onAbort, { once: true })
  const chunks: Uint8Array[] = []
  let total = 0
  const reader = stream[Symbol.asyncIterator]()
  try {
    while (true) {
      const { done, value } = await Promise.race([reader.next(), gaveUp])
      if (done === true) break
      const bytes = value instanceof Uint8Array ? value : value.subarray()
      total += bytes.length
      if (total > max + (framed ? 2 : 0)) {
        const err = new OversizeRecordError(`${what} sent more than ${max} bytes`)
        stream.abort(err)
        throw err
      }
      chunks.push(bytes)
      if (framed && total >= 2) {
        const all = concatChunks(chunks, total)
        const length = (all[0]! << 8) | all[1]!
        if (length > max) throw new OversizeRecordError(`${what} names ${length} bytes, more than ${max}`)
        if (total >= 2 + length) return all.subarray(2, 2 + length)
      }
    }
  } finally {
    signal.removeEventListener('abort', onAbort)
    // stop listening (a framed read leaves the rest of the stream unread)
    void reader.return?.(undefined).catch(() => {})
  }
  if (framed) throw new SnapshotPieceError(`${what} ended before its length said`)
  return concatChunks(chunks, total)
}

function concatChunks (chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!
  const out = new Uint8Array(total)
  let o = 0
  for (const c of chunks) { out.set(c, o); o += c.length }
  return out
}

async function request (libp2p: Libp2p, peer: PeerId, protocol: string, body: Uint8Array, max: number, what: string, options: AbortOptions): Promise<Uint8Array> {
  // a timer of our own rather than AbortSignal.timeout: a timeout signal that only a composite
  // signal refers to may be collected before it fires, and the request would then wait for ever
  const deadline = new AbortController()
  const timer = setTimeout(() => { deadline.abort(new SnapshotTimeoutError(`${what} took longer than ${REQUEST_TIMEOUT} ms`)) }, REQUEST_TIMEOUT)
  const signal = options.signal == null ? deadline.signal : AbortSignal.any([options.signal, deadline.signal])
  try {
    // a dial that does not watch its signal (a connection being closed) must not hold the snapshot
    const dialing = libp2p.dialProtocol(peer, protocol, { signal })
    dialing.then(stream => { if (signal.aborted) stream.abort(signal.reason as Error) }, () => {})
    const stream = await raceSignal(dialing, signal)
    try {
      if (!stream.send(frameRequest(body))) await stream.onDrain({ signal })
      // our end stays open until the answer is in: the answer ends when the server closes its end
      const answer = await readAll(stream, max, what, signal)
      await stream.close({ signal }).catch(() => {})
      return answer
    } catch (err) {
      stream.abort(err as Error)
      throw err
    }
  } finally {
    clearTimeout(timer)
  }
}

/** A peer's manifest of its log (throws UnsupportedProtocolError when the peer speaks only format 1) */
export async function fetchManifest (libp2p: Libp2p, peer: PeerId, protocol: string, logId: string, options: AbortOptions = {}): Promise<SnapshotManifest> {
  const bytes = await request(libp2p, peer, protocol, encodeRequest(), MAX_MANIFEST_BYTES, `the snapshot manifest from ${peer}`, options)
  return decodeManifest(bytes, logId)
}

export interface FetchPiecesOptions extends AbortOptions {
  /** pieces fetched at once (default PIECE_CONCURRENCY) */
  concurrency?: number
}

/**
 * The entries of every piece of `manifest`, in its order, each piece checked against its CID,
 * size and count (snapshot-wire.ts) before it is handed on; up to `concurrency` pieces are
 * fetched ahead. Never more than those pieces in memory. Throws at the first bad piece.
 */
export async function * fetchPieces (libp2p: Libp2p, peer: PeerId, protocol: string, manifest: SnapshotManifest, options: FetchPiecesOptions = {}): AsyncGenerator<Uint8Array[]> {
  const stop = new AbortController()
  const signal = options.signal == null ? stop.signal : AbortSignal.any([options.signal, stop.signal])
  const ahead: Array<Promise<Uint8Array[]>> = []
  let next = 0
  const fetchNext = (): void => {
    const ref = manifest.pieces[next++]!
    const what = `snapshot piece ${ref.cid} from ${peer}`
    const once = async (): Promise<Uint8Array[]> => decodePiece(await request(libp2p, peer, protocol, encodeRequest(ref.cid), ref.bytes, what, { signal }), ref)
    // a stream cut short under load (a closed connection ends a stream as if it were complete)
    // is asked for once more; a piece that fails twice ends the snapshot
    const piece = once().catch(async err => {
      if (signal.aborted) throw err
      log('%s failed, asking once more - %e', what, err)
      return once()
    })
    piece.catch(() => {})
    ahead.push(piece)
  }
  try {
    const concurrency = Math.max(1, options.concurrency ?? PIECE_CONCURRENCY)
    while (next < manifest.pieces.length && ahead.length < concurrency) fetchNext()
    while (ahead.length > 0) {
      const entries = await ahead.shift()!
      if (next < manifest.pieces.length) fetchNext()
      yield entries
    }
  } finally {
    // a reader that stopped early leaves no request running
    stop.abort(new SnapshotTimeoutError('the snapshot was not read to its end'))
  }
}

/** Answer one format-2 request: our manifest, or a piece it names */
export async function serveRequest (stream: Stream, pieces: SnapshotPieces, options: { signal: AbortSignal }): Promise<void> {
  const { piece } = decodeRequest(await readAll(stream, MAX_REQUEST_BYTES, 'a snapshot request', options.signal, true))
  const bytes = piece == null ? encodeManifest(await pieces.manifest(options)) : await pieces.piece(piece.toString(), options)
  if (bytes == null) throw new SnapshotPieceError(`no snapshot piece ${piece?.toString() ?? ''} here (asked for a piece of another manifest)`)
  for (let o = 0; o < bytes.length; o += SEND_BYTES) {
    if (!stream.send(bytes.subarray(o, o + SEND_BYTES))) await stream.onDrain(options)
  }
  await stream.close(options)
  log.trace('served %s (%d bytes)', piece == null ? 'a manifest' : `piece ${piece}`, bytes.length)
}
