import { logger } from '@libp2p/logger'
import { SnapshotHeadsError, SnapshotTimeoutError } from '../errors.ts'
import { createSignatureBatch } from '../codecs/signature-batch.ts'
import { heldEntries } from './held-entries.ts'
import { raceSignal } from './serial.ts'
import { checkEntries } from './entry-checks.ts'
import type { HublessAccessController } from './access-controller.ts'
import type { CachedEntry } from './record-frame.ts'
import type { Checked } from './entry-checks.ts'
import type { Decoded } from './snapshot.ts'
import type { AbortOptions } from '@libp2p/interface'
import type { LogEntry } from '@orbitdb/core'
import type { CID } from 'multiformats/cid'

const log = logger('hubless:registry:snapshot')

/**
 * pieces taken in and not yet written (being checked, or waiting for the writes before them):
 * the bound on what an import holds, and enough checks queued for the signature worker to go on
 * while a checkpoint writes the record index
 */
export const CHECK_WINDOW = 6
/** entries written between two joins of the tips, after which their records are shown (while the rest arrives) */
const CHECKPOINT_ENTRIES = 4_096
/** an import in which no piece arrives and none is written for this long is given up */
export const STALL_TIMEOUT = 60_000

export interface StreamImportContext {
  logId: string
  access: HublessAccessController
  /**
   * for each hash, true when the log (or the record index) holds that entry: asked once a piece
   * (one LevelDB read for its 512 entries), never once an entry
   */
  held (hashes: string[]): Promise<boolean[]>
  /** store entry blocks (the log's entry storage reads them back) */
  putBlocks (blocks: Array<{ cid: CID, bytes: Uint8Array }>): Promise<void>
  /** mark entries as part of the log (OrbitDB's index) */
  index (hashes: string[]): Promise<void>
  /** OrbitDB's own join, for the tips */
  joinEntry (entry: LogEntry): Promise<boolean>
  /** pin the writer identities entries name, before those entries enter the log */
  keepIdentities (hashes: string[]): Promise<void>
  /** checked entries, parents first, stored and indexed: hand them to the record index */
  commit (entries: Array<CachedEntry & { deps: string[], cid: CID }>): Promise<void>
  onRejected (hash: string, error: Error): void
}

export interface StreamImportProgress {
  /** entries received so far */
  received: number
  imported: number
  rejected: number
}

export interface StreamImportOptions extends AbortOptions {
  onProgress?(progress: StreamImportProgress): void
  /**
   * the heads the snapshot says it covers: each must be in the log afterwards, or the import
   * throws SnapshotHeadsError (a snapshot cut short, or one that left entries out)
   */
  heads?: string[]
}

export interface StreamImportResult extends StreamImportProgress {
  /** the entries joined as heads at the end */
  heads: string[]
}

/**
 * Import a snapshot piece by piece (snapshot format 2, or any source of entries in parents-first
 * order): each piece's entries are decoded and their signatures checked on a worker while the
 * pieces before it are written, and each piece's blocks, once checked, are written at once. Memory holds a few pieces, the tips and the records of one checkpoint, never the
 * snapshot.
 *
 * Every entry passes the checks canAppend and OrbitDB's join make (access-controller.ts) and is
 * kept only when everything it points to is in the log already or came before it: the log stays
 * closed under ancestry at every step. Every CHECKPOINT_ENTRIES and at the end, the entries
 * something points to go into OrbitDB's index in one batch, the others (the tips) are joined
 * through OrbitDB's own join, and only then are the records written since handed to the record
 * index (a crash between checkpoints leaves blocks only, never indexed entries no head reaches), so
 * records show while the rest arrives and never before the log's heads reach them. A source that
 * fails (a bad piece, a timeout) ends the import there: what was checked and written stays.
 */
export async function importPieces (pieces: AsyncIterable<Uint8Array[]>, ctx: StreamImportContext, options: StreamImportOptions = {}): Promise<StreamImportResult> {
  const started = performance.now()
  const progress: StreamImportProgress = { received: 0, imported: 0, rejected: 0 }
  const signatures = createSignatureBatch()
  /** imported entries nothing imported points to yet: not in OrbitDB's index until joined */
  const tips = new Map<string, Decoded>()
  const heads: string[] = []
  /** written since the last checkpoint: their records are handed on once the tips are joined */
  const written = new Map<string, CachedEntry & { deps: string[], cid: CID }>()
  /** written entries something points to, for OrbitDB's index at the next checkpoint */
  const unindexed: string[] = []
  /** writer identities pinned, and those the entries written since the last checkpoint name */
  const identities = new Set<string>()
  const newIdentities = new Set<string>()
  /** for each hash: written since the last checkpoint, or held by the log; one read for all */
  const known = async (hashes: string[]): Promise<boolean[]> => heldEntries(hashes, h => written.has(h), async ask => ctx.held(ask))

  const checkPiece = async (raw: Uint8Array[]): Promise<Array<Checked | undefined>> => {
    const { checked, rejected } = await checkEntries(raw, {
      logId: ctx.logId,
      access: ctx.access,
      verify: signatures.verify,
      held: known,
      onRejected: (hash, error) => { ctx.onRejected(hash, error) }
    })
    progress.rejected += rejected
    return checked
  }

  /** join the tips through OrbitDB, then show the records written since the last checkpoint */
  const checkpoint = async (): Promise<void> => {
    // the identities first: a peer asked for these entries must be able to show who wrote them,
    // also after a crash right after they entered the log
    if (newIdentities.size > 0) {
      const pin = [...newIdentities]
      newIdentities.clear()
      await ctx.keepIdentities(pin)
      for (const i of pin) identities.add(i)
    }
    // what the tips point to, indexed in one batch; then the tips joined through OrbitDB
    await ctx.index(unindexed.splice(0))
    for (const [hash, entry] of [...tips]) {
      tips.delete(hash)
      try {
        if (await ctx.joinEntry(entry)) heads.push(hash)
      } catch (err) {
        log('joining snapshot tip %s failed - %e', hash, err)
      }
    }
    if (written.size === 0) return
    const entries = [...written.values()]
    written.clear()
    await ctx.commit(entries)
  }

  /** write one checked piece: what it points to must be in the log, or earlier in the piece */
  const writePiece = async (checked: Array<Checked | undefined>): Promise<void> => {
    // what the piece's entries point to outside it, asked in one read: a parent inside the
    // piece counts only when it comes before its child
    const inPiece = new Set<string>()
    for (const c of checked) if (c != null) inPiece.add(c.entry.hash)
    const outside = new Set<string>()
    for (const c of checked) {
      if (c == null) continue
      for (const dep of c.entry.next) if (!inPiece.has(dep)) outside.add(dep)
      for (const dep of c.entry.refs) if (!inPiece.has(dep)) outside.add(dep)
    }
    const asked = [...outside]
    const answers = await known(asked)
    const present = new Set(asked.filter((_, i) => answers[i]))
    const kept = new Map<string, Checked>()
    for (const c of checked) {
      // written from an earlier piece (a snapshot that repeats itself) goes in once
      if (c == null || kept.has(c.entry.hash) || written.has(c.entry.hash)) continue
      const ok = c.entry.next.every(dep => kept.has(dep) || present.has(dep)) && c.entry.refs.every(dep => kept.has(dep) || present.has(dep))
      // out of order (a parent later, or never): left to replication, not refused
      if (!ok) { progress.rejected++; continue }
      kept.set(c.entry.hash, c)
    }
    if (kept.size === 0) return
    for (const c of kept.values()) {
      for (const dep of c.entry.next) if (tips.delete(dep)) unindexed.push(dep)
      for (const dep of c.entry.refs) if (tips.delete(dep)) unindexed.push(dep)
      tips.set(c.entry.hash, c.entry)
    }
    const items = [...kept.values()]
    // blocks now (a block alone is not part of the log); the log's index at the checkpoint
    await ctx.putBlocks(items.map(c => ({ cid: c.cid, bytes: c.bytes })))
    progress.imported += items.length
    for (const c of items) if (!identities.has(c.entry.identity)) newIdentities.add(c.entry.identity)
    for (const c of items) written.set(c.entry.hash, { entryHash: c.entry.hash, signed: c.signed, entry: c.bytes, deps: c.entry.next.concat(c.entry.refs), cid: c.cid })
    if (written.size >= CHECKPOINT_ENTRIES) await checkpoint()
  }

  // every wait below is bounded: by the caller's signal, and by a deadline that moves with progress
  const stall = new AbortController()
  let stallTimer: ReturnType<typeof setTimeout> | undefined
  const progressed = (): void => {
    clearTimeout(stallTimer)
    stallTimer = setTimeout(() => { stall.abort(new SnapshotTimeoutError(`a snapshot import made no progress for ${STALL_TIMEOUT} ms`)) }, STALL_TIMEOUT)
  }
  progressed()
  const signal = options.signal == null ? stall.signal : AbortSignal.any([options.signal, stall.signal])
  const writeNext = async (checks: Promise<Array<Checked | undefined>>): Promise<void> => {
    await writePiece(await raceSignal(checks, signal))
    progressed()
    options.onProgress?.({ ...progress })
  }
  // pieces are written one after another in a chain of their own, so that taking in and checking
  // the next pieces (and keeping the signature worker busy) goes on while a piece or a checkpoint
  // is written; the loop waits only when CHECK_WINDOW pieces are in hand
  let writing: Promise<void> = Promise.resolve()
  let writeError: unknown
  let inHand = 0
  let freed: (() => void) | undefined
  try {
    for await (const raw of pieces) {
      signal.throwIfAborted()
      if (writeError != null) throw writeError
      progressed()
      progress.received += raw.length
      const checks = checkPiece(raw)
      checks.catch(() => {})
      inHand++
      writing = writing
        .then(async () => { if (writeError == null) await writeNext(checks) })
        .catch((err: unknown) => { writeError ??= err })
        .finally(() => { inHand--; freed?.() })
      while (inHand >= CHECK_WINDOW && writeError == null) await raceSignal(new Promise<void>(resolve => { freed = resolve }), signal)
      if (writeError != null) throw writeError
    }
    // nothing more to decode: check signatures on this thread too
    await signatures.help({ signal })
    await writing
    if (writeError != null) throw writeError
  } finally {
    // what is being written finishes (or fails at once on a stop) before the last checkpoint
    await writing
    clearTimeout(stallTimer)
    signatures.close()
    if (options.signal?.aborted === true) {
      // stopping: OrbitDB's join queue may be busy for long, so the log stays at the last
      // checkpoint (what was written since is blocks only, as after a crash)
      progress.imported -= written.size
    } else {
      // whatever was written, joined and shown: a failed source loses nothing that checked out
      await checkpoint()
    }
  }
  log('imported %d of %d snapshot entries (%d rejected, %d heads) in %d ms', progress.imported, progress.received, progress.rejected, heads.length, Math.round(performance.now() - started))
  const named = options.heads ?? []
  const present = named.length === 0 ? [] : await ctx.held(named)
  const missing = named.filter((_, i) => present[i] !== true)
  if (missing.length > 0) throw new SnapshotHeadsError(`the snapshot named ${options.heads!.length} heads and did not bring ${missing.length} of them (${missing[0]}); what it brought is kept, the rest must come by replication`)
  return { ...progress, heads }
}
