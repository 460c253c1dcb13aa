import { createHash } from 'node:crypto'
import * as dagCbor from '@ipld/dag-cbor'
import { logger } from '@libp2p/logger'
import { Entry } from '@orbitdb/core'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'
import { MalformedRecordError, OversizeRecordError, SnapshotRefusedError, SnapshotTimeoutError } from '../errors.ts'
import { MAX_ENVELOPE_BYTES } from '../records/codec.ts'
import { raceSignal } from './serial.ts'
import type { HublessAccessController } from './access-controller.ts'
import type { CachedEntry } from './record-frame.ts'
import { base58btcEncode } from '@hubless/net/multibase'
import { parseCanonicalEntry } from '../codecs/entry-bytes.ts'
import { createSignatureBatch } from '../codecs/signature-batch.ts'
import type { AbortOptions, Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { LogEntry } from '@orbitdb/core'

const log = logger('hubless:registry:snapshot')

/**
 * Snapshots: a peer that is far behind asks a neighbour for every entry of its log in one
 * stream (u32 length + entry bytes, straight from the neighbour's record cache), checks each
 * entry once while the rest arrives — the very checks the access controller and OrbitDB's join
 * make, with the signatures checked on a worker thread in batches — and writes the ones whose
 * whole ancestry checked out into the log's storage and index in bulk. Then it joins the
 * snapshot's heads through OrbitDB's own `joinEntry`, which finds every ancestor already in the
 * index and stops. The log stays OrbitDB's log: the same blocks, index and heads as if it had
 * been joined entry by entry.
 */

export const MAX_SNAPSHOT_ENTRIES = 1_000_000
/** a snapshot stream that sends nothing for this long is given up */
export const SNAPSHOT_IDLE_TIMEOUT = 10_000
const MAX_SNAPSHOT_BYTES = 1024 * 1024 * 1024
const MAX_ENTRY_BYTES = MAX_ENVELOPE_BYTES + 16 * 1024
const SEND_BATCH = 64 * 1024
/** entries decoded between two turns of the event loop */
const DECODE_CHUNK = 128
/** checked entries whose blocks are written in one batch while the rest of a snapshot is checked */
const EARLY_BLOCKS = 1024

export function snapshotProtocol (address: string): string {
  return `/hubless/registry/snapshot/1.0.0/${address.split('/').pop()}`
}

/** Send every entry's bytes (u32 length + bytes), in log-arrival order, in pieces of about SEND_BATCH bytes, then close */
export async function serveSnapshot (stream: Stream, entries: AsyncIterable<Uint8Array>, options?: AbortOptions): Promise<void> {
  let buf = new Uint8Array(SEND_BATCH)
  let view = new DataView(buf.buffer)
  let size = 0
  const flush = async (): Promise<void> => {
    if (size === 0) return
    const piece = buf.subarray(0, size)
    // the stream may hold on to what it was given: frames go into a new buffer from here on
    buf = new Uint8Array(SEND_BATCH)
    view = new DataView(buf.buffer)
    size = 0
    if (!stream.send(piece)) await stream.onDrain(options)
  }
  for await (const e of entries) {
    if (size + 4 + e.length > buf.length) {
      await flush()
      if (4 + e.length > buf.length) {
        buf = new Uint8Array(4 + e.length)
        view = new DataView(buf.buffer)
      }
    }
    view.setUint32(size, e.length)
    buf.set(e, size + 4)
    size += 4 + e.length
  }
  await flush()
  await stream.close(options)
}

export interface FetchSnapshotOptions extends AbortOptions {
  /** at most this many entries (default MAX_SNAPSHOT_ENTRIES) */
  maxEntries?: number
  /** at most this many bytes (default 1 GiB) */
  maxBytes?: number
  /** what the stream is called in errors (default "the snapshot") */
  what?: string
}

/**
 * Read a peer's snapshot (or any stream of u32 length + entry bytes) as it arrives: the entry
 * bytes of each chunk received, bounded in count and size. Throws (a named error) when the peer
 * breaks a bound, goes silent, resets the stream (refused, or failed part-way) or ends inside an
 * entry; whatever it yielded before is then no snapshot at all.
 */
export async function * fetchSnapshot (libp2p: Libp2p, peer: PeerId, protocol: string, options: FetchSnapshotOptions = {}): AsyncGenerator<Uint8Array[]> {
  const maxEntries = options.maxEntries ?? MAX_SNAPSHOT_ENTRIES
  const maxBytes = options.maxBytes ?? MAX_SNAPSHOT_BYTES
  const what = options.what ?? 'the snapshot'
  // opening the stream is bounded on its own: a peer that never finishes protocol negotiation
  // must not hold the database queue for the whole snapshot deadline
  const opening = AbortSignal.timeout(SNAPSHOT_IDLE_TIMEOUT)
  const stream = await libp2p.dialProtocol(peer, protocol, { ...options, signal: options.signal == null ? opening : AbortSignal.any([options.signal, opening]) })
  // reading a stream does not watch a signal: a peer that goes silent without closing would hold
  // the read (and the database queue waiting on this snapshot) for ever, so the stream itself is
  // aborted when the overall deadline passes or nothing arrives for SNAPSHOT_IDLE_TIMEOUT
  let idle: ReturnType<typeof setTimeout> | undefined
  // an aborted libp2p stream does not always end a pending read, so reads race this as well
  let giveUp!: (err: Error) => void
  const gaveUp = new Promise<never>((_resolve, reject) => { giveUp = reject })
  gaveUp.catch(() => {})
  const abort = (reason: string): void => {
    const err = new SnapshotTimeoutError(`${what} from ${peer} ${reason}`)
    giveUp(err)
    stream.abort(err)
  }
  const onAbort = (): void => { abort('took too long') }
  const touch = (): void => {
    clearTimeout(idle)
    idle = setTimeout(() => { abort(`sent nothing for ${SNAPSHOT_IDLE_TIMEOUT} ms`) }, SNAPSHOT_IDLE_TIMEOUT)
  }
  options.signal?.addEventListener('abort', onAbort, { once: true })
  touch()
  let count = 0
  let ended = false
  let pending = new Uint8Array(0)
  let total = 0
  try {
    // listening before our end is closed: a peer that answers at once may close its end before
    // a listener is attached, and that end would never be seen (the read waits out the idle timeout)
    const chunks = stream[Symbol.asyncIterator]()
    let pendingChunk = chunks.next()
    pendingChunk.catch(() => {})
    await Promise.race([stream.close(options), gaveUp])
    while (true) {
      const next = await Promise.race([pendingChunk, gaveUp])
      if (next.done === true) {
        // a peer that refuses (busy) or fails part-way resets the stream: its reads end as a close
        // does, and what came is not the whole
        if (stream.status === 'reset') throw new SnapshotRefusedError(`${peer} broke off ${what} after ${count} entries`)
        break
      }
      pendingChunk = chunks.next()
      pendingChunk.catch(() => {})
      const chunk = next.value
      touch()
      options.signal?.throwIfAborted()
      const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray()
      total += bytes.length
      if (total > maxBytes) throw new OversizeRecordError(`${what} from ${peer} exceeds ${maxBytes} bytes`)
      const buf = new Uint8Array(pending.length + bytes.length)
      buf.set(pending, 0)
      buf.set(bytes, pending.length)
      const view = new DataView(buf.buffer)
      const entries: Uint8Array[] = []
      let o = 0
      while (o + 4 <= buf.length) {
        const len = view.getUint32(o)
        if (len > MAX_ENTRY_BYTES) throw new OversizeRecordError(`an entry of ${what} from ${peer} has ${len} bytes`)
        if (o + 4 + len > buf.length) break
        entries.push(buf.subarray(o + 4, o + 4 + len))
        o += 4 + len
        if (++count > maxEntries) throw new OversizeRecordError(`${what} from ${peer} has more than ${maxEntries} entries`)
      }
      pending = buf.slice(o)
      if (entries.length > 0) yield entries
    }
    ended = true
  } catch (err) {
    ended = true
    stream.abort(err as Error)
    throw err
  } finally {
    // a reader that stopped early (its own error, an abort) leaves no stream open
    if (!ended) stream.abort(new SnapshotTimeoutError(`${what} from ${peer} was not read to its end`))
    clearTimeout(idle)
    options.signal?.removeEventListener('abort', onAbort)
  }
  if (pending.length > 0) throw new MalformedRecordError(`${what} from ${peer} ends inside an entry`)
}

export interface ImportContext {
  logId: string
  access: HublessAccessController
  /** true when the log holds this entry already */
  has (hash: string): Promise<boolean>
  /** true when the log holds no entry at all (then `has` need not be asked) */
  empty: boolean
  /** store entry blocks (the log's entry storage reads them back) */
  putBlocks (blocks: Array<{ cid: CID, bytes: Uint8Array }>): Promise<void>
  /** mark entries as part of the log (OrbitDB's index) */
  index (hashes: string[]): Promise<void>
  /** take entries out of the index again */
  unindex (hashes: string[]): Promise<void>
  /** OrbitDB's own join, for the heads */
  joinEntry (entry: LogEntry): Promise<boolean>
  onRejected (hash: string, error: Error): void
}

export interface ImportResult {
  /** in Lamport-clock order, with what each entry points to */
  imported: Array<CachedEntry & { deps: string[] }>
  rejected: number
}

export type Decoded = LogEntry & { hash: string }

/**
 * OrbitDB's `Entry.decode` (dag-cbor, CIDv1 sha2-256 hash in base58btc), synchronously, the
 * entry's CID, and (for the canonical common shape, see entry-bytes.ts) the bytes its signature signs
 */
export function decodeWithCid (bytes: Uint8Array): { entry: Decoded, cid: CID, signedBytes?: Uint8Array } {
  const parsed = parseCanonicalEntry(bytes)
  const entry = (parsed?.entry ?? dagCbor.decode(bytes)) as Decoded
  const cid = CID.createV1(dagCbor.code, Digest.create(sha256.code, createHash('sha256').update(bytes).digest()))
  // the same string as cid.toString(base58btc), without the per-CID string cache that toString fills
  entry.hash = base58btcEncode(cid.bytes)
  return parsed == null ? { entry, cid } : { entry, cid, signedBytes: parsed.signedBytes }
}

/** OrbitDB's `Entry.decode` (dag-cbor, CIDv1 sha2-256 hash in base58btc), synchronously */
export function decodeEntry (bytes: Uint8Array): Decoded {
  return decodeWithCid(bytes).entry
}

async function * inChunks (raw: Uint8Array[]): AsyncGenerator<Uint8Array[]> {
  for (let i = 0; i < raw.length; i += DECODE_CHUNK) yield raw.slice(i, i + DECODE_CHUNK)
}

/**
 * Check a snapshot's entries and add to the log those whose whole ancestry is valid. `source` is
 * the entries, or a stream of them ({@link fetchSnapshot}), checked while the rest arrives;
 * nothing is written before the whole snapshot has arrived and been checked.
 */
export async function importSnapshot (source: Uint8Array[] | AsyncIterable<Uint8Array[]>, ctx: ImportContext, options: AbortOptions = {}): Promise<ImportResult> {
  const started = performance.now()
  let checked = started
  let received = 0
  let rejected = 0
  const valid = new Map<string, { entry: Decoded, cid: CID, bytes: Uint8Array, signed: CachedEntry['signed'] }>()
  const seen = new Set<string>()
  // the entry's and the record's signatures go to a worker in batches while this thread decodes
  // the next entries; every entry is checked once, with every check canAppend and OrbitDB's join make
  const signatures = createSignatureBatch()
  const checks: Array<Promise<void>> = []
  let unwritten: Array<{ cid: CID, bytes: Uint8Array }> = []
  const blockWrites: Array<Promise<void>> = []
  const writeBlocks = (): void => {
    if (unwritten.length === 0) return
    const blocks = unwritten
    unwritten = []
    const write = ctx.putBlocks(blocks)
    // awaited (and its error thrown) before the index is written
    write.catch(() => {})
    blockWrites.push(write)
  }
  const checkEntry = async (entry: Decoded, cid: CID, bytes: Uint8Array, signedBytes: Uint8Array | undefined): Promise<void> => {
    try {
      if (!ctx.empty && await ctx.has(entry.hash)) return
      if (entry.id !== ctx.logId || !Entry.isEntry(entry) || !Array.isArray(entry.next) || !Array.isArray(entry.refs) || typeof entry.clock?.time !== 'number') throw new MalformedRecordError(`entry ${entry.hash} does not belong to this log`)
      const signed = await ctx.access.check(entry, { verify: signatures.verify, entrySignature: true, signedEntryBytes: signedBytes })
      valid.set(entry.hash, { entry, cid, bytes, signed })
      // a checked entry is a valid block whether or not its ancestry arrives: stored while the
      // rest is checked (only the index and the heads make it part of the log)
      unwritten.push({ cid, bytes })
      if (unwritten.length >= EARLY_BLOCKS) writeBlocks()
    } catch (err) {
      rejected++
      ctx.onRejected(entry.hash, err as Error)
    }
  }
  try {
    let sinceTurn = 0
    for await (const chunk of Array.isArray(source) ? inChunks(source) : source) {
      options.signal?.throwIfAborted()
      received += chunk.length
      for (const bytes of chunk) {
        let decoded: ReturnType<typeof decodeWithCid>
        try {
          decoded = decodeWithCid(bytes)
        } catch {
          rejected++
          continue
        }
        if (seen.has(decoded.entry.hash)) continue
        seen.add(decoded.entry.hash)
        checks.push(checkEntry(decoded.entry, decoded.cid, bytes, decoded.signedBytes))
      }
      // let these checks reach the worker, and its answers come back (chunks that were already
      // buffered arrive without a turn of the event loop)
      sinceTurn += chunk.length
      if (sinceTurn >= DECODE_CHUNK) {
        sinceTurn = 0
        await new Promise(resolve => setImmediate(resolve))
      }
    }
    // everything is decoded: check signatures here as well until the worker holds the last of them
    await signatures.help(options)
    await raceSignal(Promise.all(checks), options.signal)
    checked = performance.now()
  } finally {
    signatures.close()
  }
  options.signal?.throwIfAborted()

  // keep an entry only if everything it points to is in the log or kept: what OrbitDB's join
  // would accept. A parent's Lamport time is below its child's, so one pass in time order does it.
  const ordered = [...valid.values()].sort((a, b) => a.entry.clock.time - b.entry.clock.time)
  const kept = new Map<string, (typeof ordered)[number]>()
  for (const v of ordered) {
    let ok = true
    for (const deps of [v.entry.next, v.entry.refs]) {
      for (const dep of deps) {
        // an empty log holds nothing: no lookup (and no promise) per parent
        if (!kept.has(dep) && (ctx.empty || !(await ctx.has(dep)))) { ok = false; break }
      }
      if (!ok) break
    }
    if (ok) kept.set(v.entry.hash, v)
  }
  rejected += valid.size - kept.size

  const referenced = new Set<string>()
  for (const v of kept.values()) {
    for (const dep of v.entry.next) referenced.add(dep)
    for (const dep of v.entry.refs) referenced.add(dep)
  }
  const heads = [...kept.values()].filter(v => !referenced.has(v.entry.hash))
  const headHashes = new Set(heads.map(v => v.entry.hash))

  // the last blocks and the index side by side (two LevelDB instances), both before the heads are joined
  writeBlocks()
  await Promise.all([...blockWrites, ctx.index([...kept.keys()].filter(h => !headHashes.has(h)))])
  const written = performance.now()
  const joined: string[] = []
  for (const head of heads) {
    try {
      await ctx.joinEntry(head.entry)
      joined.push(head.entry.hash)
    } catch (err) {
      log('joining snapshot head %s failed - %e', head.entry.hash, err)
    }
  }
  // what hangs only under heads that failed to join is not in OrbitDB's log: take it out of the index
  let inLog: Set<string> = new Set(kept.keys())
  if (joined.length < heads.length) {
    inLog = new Set()
    const stack = [...joined]
    while (stack.length > 0) {
      const h = stack.pop()!
      const v = kept.get(h)
      if (v == null || inLog.has(h)) continue
      inLog.add(h)
      stack.push(...v.entry.next, ...v.entry.refs)
    }
    const orphans = [...kept.keys()].filter(h => !inLog.has(h) && !headHashes.has(h))
    await ctx.unindex(orphans)
    rejected += kept.size - inLog.size
  }
  const imported: ImportResult['imported'] = []
  for (const v of ordered) {
    if (inLog.has(v.entry.hash)) imported.push({ entryHash: v.entry.hash, signed: v.signed, entry: v.bytes, deps: [...v.entry.next, ...v.entry.refs] })
  }
  log('imported %d of %d snapshot entries (%d rejected, %d heads): checked in %d ms, written in %d ms, joined in %d ms', imported.length, received, rejected, heads.length,
    Math.round(checked - started), Math.round(written - checked), Math.round(performance.now() - written))
  return { imported, rejected }
}

