import { logger } from '@libp2p/logger'
import { createSignatureBatch } from '../codecs/signature-batch.ts'
import { decodeFrame, frameHeader } from './record-frame.ts'
import { latestKey } from './record-store.ts'
import { checkEntries } from './entry-checks.ts'
import { fetchSnapshot } from './snapshot.ts'
import type { HublessAccessController } from './access-controller.ts'
import type { RecordQuery } from './record-index.ts'
import type { RecordStore } from './record-store.ts'
import type { ReleaseRecord, SignedRecord } from '../records/types.ts'
import type { AbortOptions, Libp2p, PeerId } from '@libp2p/interface'

const log = logger('hubless:registry:live')

/**
 * The live set: what a peer that is far behind needs before the history that led to it, so that
 * it answers with today's catalog in seconds rather than after verifying every superseded nightly.
 * It is every record that is not a release (revocations, rotations, endorsements, yanks), each
 * publisher's newest release per app, channel and architecture, and where the catalog passes
 * over that one (yanked, or signed after its key was revoked or rotated away), the newest release
 * of its slot that it does not pass over (what the catalog falls back to). Each record is an
 * entry of the serving peer's log and checks out on its own (entry signature, writer identity,
 * record), exactly as it does when it enters the log; the asker shows them at once and takes the
 * log itself afterwards, through the snapshot that follows. What the live set cannot prove is
 * that nothing was left out: a serving peer can withhold a yank or a revocation until the log
 * brings it (SECURITY.md).
 */

/** a head this many Lamport ticks ahead of ours brings the live set before the snapshot */
export const DEFAULT_LIVE_SET_THRESHOLD = 4_096
/** a live set with more entries, or more bytes, than this is refused */
export const MAX_LIVE_SET_ENTRIES = 200_000
const MAX_LIVE_SET_BYTES = 256 * 1024 * 1024
/** chunks of the stream checked at once, ahead of the one handed on */
const CHECK_AHEAD = 8
/** live sets served at once by default (`RegistryInit.liveSetServes`); more askers are refused and take the snapshot alone */
export const MAX_LIVE_SET_SERVES = 4

const TRUST_KINDS = ['revoke-key', 'rotate-key', 'endorse', 'unendorse', 'yank'] as const

export function liveSetProtocol (address: string): string {
  return `/hubless/registry/live/1.0.0/${address.split('/').pop()}`
}

export type LiveSetStore = Pick<RecordStore, 'framesByKind' | 'latestSlots' | 'framesByApp'>

/** The entry bytes of our live set (what the protocol serves) */
export async function * liveSetEntries (store: LiveSetStore): AsyncGenerator<Uint8Array> {
  for await (const frame of liveSetFrames(store)) yield frameHeader(frame).entry
}

/** The record index's frames of our live set, trust records first: ranges of the index */
export async function * liveSetFrames (store: LiveSetStore): AsyncGenerator<Uint8Array> {
  const yanked = new Set<string>()
  /** key -> the moment from which its releases are revoked or rotated away (the catalog's rule) */
  const cutoffs = new Map<string, number>()
  const cut = (key: string, time: number): void => { cutoffs.set(key, Math.min(cutoffs.get(key) ?? Infinity, time)) }
  for (const kind of TRUST_KINDS) {
    for await (const frame of store.framesByKind(kind)) {
      if (kind === 'yank' || kind === 'revoke-key' || kind === 'rotate-key') {
        const { record } = decodeFrame(frame).signed
        if (record.kind === 'yank') yanked.add(record.release)
        else if (record.kind === 'revoke-key') cut(record.publisher, record.since)
        else if (record.kind === 'rotate-key') cut(record.publisher, record.time)
      }
      yield frame
    }
  }
  /** what the catalog would pass over: a yanked release, or one signed after its key's cutoff */
  const passedOver = (id: string, record: ReleaseRecord): boolean => yanked.has(id) || record.time >= (cutoffs.get(record.publisher) ?? Infinity)
  /** app id -> its slots whose newest release the catalog passes over */
  const fallBack = new Map<string, Set<string>>()
  for await (const { publisher, time, frame } of store.latestSlots({})) {
    // the index's key and time say whether the catalog could pass it over; only those are decoded
    if (time >= (cutoffs.get(publisher) ?? Infinity) || (yanked.size > 0 && yanked.has(frameHeader(frame).id))) {
      const record = decodeFrame(frame).signed.record as ReleaseRecord
      fallBack.set(record.appId, (fallBack.get(record.appId) ?? new Set()).add(latestKey(record)))
    }
    yield frame
  }
  // the newest release of each such slot that the catalog does not pass over (it shows that one instead)
  for (const [appId, slots] of fallBack) {
    const newest = new Map<string, { time: number, frame: Uint8Array }>()
    for await (const frame of store.framesByApp(appId)) {
      const { signed } = decodeFrame(frame)
      const record = signed.record
      if (record.kind !== 'release' || passedOver(signed.id, record)) continue
      const key = latestKey(record)
      if (!slots.has(key)) continue
      // in log order: on a tie of times, the later entry
      if ((newest.get(key)?.time ?? -Infinity) <= record.time) newest.set(key, { time: record.time, frame })
    }
    for (const { frame } of newest.values()) yield frame
  }
}

export interface LiveSetContext {
  logId: string
  access: Pick<HublessAccessController, 'check'>
  /** for each hash, true when the log holds that entry already (it is not checked again) */
  held (hashes: string[]): Promise<boolean[]>
  onRejected (hash: string, error: Error): void
}

export interface LiveSetPiece {
  /** the records of this piece that checked out */
  records: SignedRecord[]
  /** entries of this piece refused (each also reported to `onRejected`, but those that did not decode) */
  rejected: number
}

/**
 * A peer's live set as it arrives, checked: each entry must be an entry of this log and pass the
 * access controller's checks with its entry signature (on a worker, in batches). Bounded in
 * entries, bytes and time (snapshot.ts's reader); throws a named error when the peer breaks a
 * bound, and what was handed on before stays valid, since each record checked out on its own.
 */
export async function * fetchLiveSet (libp2p: Libp2p, peer: PeerId, protocol: string, ctx: LiveSetContext, options: AbortOptions = {}): AsyncGenerator<LiveSetPiece> {
  const signatures = createSignatureBatch()
  const checkChunk = async (raw: Uint8Array[]): Promise<LiveSetPiece> => {
    const { checked, rejected } = await checkEntries(raw, { ...ctx, verify: signatures.verify })
    return { records: checked.flatMap(c => c == null ? [] : [c.signed]), rejected }
  }
  const ahead: Array<Promise<LiveSetPiece>> = []
  try {
    for await (const raw of fetchSnapshot(libp2p, peer, protocol, { ...options, maxEntries: MAX_LIVE_SET_ENTRIES, maxBytes: MAX_LIVE_SET_BYTES, what: 'the live set' })) {
      const piece = checkChunk(raw)
      piece.catch(() => {})
      ahead.push(piece)
      while (ahead.length >= CHECK_AHEAD) yield await ahead.shift()!
    }
    while (ahead.length > 0) yield await ahead.shift()!
  } finally {
    signatures.close()
    log.trace('live set from %p read', peer)
  }
}

/**
 * Records taken from a neighbour's live set that the log does not hold yet: `get` and `has`
 * answer from here until each enters the log (with the history a snapshot brings), which takes
 * it out. Bounded by what one live set may hold.
 */
export class LiveRecords {
  readonly #records = new Map<string, SignedRecord>()

  /** remember records; returns those not held before */
  add (records: SignedRecord[]): SignedRecord[] {
    const fresh: SignedRecord[] = []
    for (const record of records) {
      if (this.#records.has(record.id) || this.#records.size >= MAX_LIVE_SET_ENTRIES) continue
      this.#records.set(record.id, record)
      fresh.push(record)
    }
    return fresh
  }

  get (id: string): SignedRecord | undefined {
    return this.#records.get(id)
  }

  /** the records `find(query)` would read from the index, of those held here */
  matching (query: RecordQuery): SignedRecord[] {
    const wanted = (r: SignedRecord['record']): boolean => 'publisher' in query
      ? r.publisher === query.publisher
      : 'appId' in query ? (r.kind === 'release' || r.kind === 'yank') && r.appId === query.appId : r.kind === query.kind
    return [...this.#records.values()].filter(signed => wanted(signed.record))
  }

  /** the record entered the log */
  entered (id: string): void {
    this.#records.delete(id)
  }

  get size (): number {
    return this.#records.size
  }
}
