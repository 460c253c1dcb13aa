import { Entry } from '@orbitdb/core'
import { MalformedRecordError } from '../errors.ts'
import { decodeWithCid } from './snapshot.ts'
import type { HublessAccessController } from './access-controller.ts'
import type { CachedEntry } from './record-frame.ts'
import type { Decoded } from './snapshot.ts'
import type { VerifySignature } from '../records/signed.ts'
import type { CID } from 'multiformats/cid'

/** Throws unless `entry` has the shape of an entry of the log `logId` (what OrbitDB's join takes) */
export function assertLogEntry (entry: Decoded, logId: string): void {
  if (entry.id !== logId || !Entry.isEntry(entry) || !Array.isArray(entry.next) || !Array.isArray(entry.refs) || typeof entry.clock?.time !== 'number') throw new MalformedRecordError(`entry ${entry.hash} does not belong to this log`)
}

/** An entry that passed every check, with its CID, bytes and record */
export interface Checked {
  entry: Decoded
  cid: CID
  bytes: Uint8Array
  signed: CachedEntry['signed']
}

export interface EntryChecks {
  logId: string
  access: Pick<HublessAccessController, 'check'>
  /** how Ed25519 signatures are checked (a snapshot's signature worker) */
  verify: VerifySignature
  /** for each hash, true when the log holds that entry already: skipped unchecked, as OrbitDB's join skips it */
  held (hashes: string[]): Promise<boolean[]>
  onRejected (hash: string, error: Error): void
}

/**
 * Decode and check entry bytes from a peer (a snapshot piece, a live set): the shape of an entry
 * of this log, then the access controller's checks with the entry signature, all of them at once
 * so that a batching `verify` gets them together. Each entry held already or refused is
 * undefined; `rejected` counts the refused ones (each also given to `onRejected`) and those that
 * did not decode.
 */
export async function checkEntries (raw: Uint8Array[], checks: EntryChecks): Promise<{ checked: Array<Checked | undefined>, rejected: number }> {
  const decoded: Array<ReturnType<typeof decodeWithCid> & { bytes: Uint8Array }> = []
  let rejected = 0
  for (const bytes of raw) {
    try {
      decoded.push({ ...decodeWithCid(bytes), bytes })
    } catch {
      rejected++
    }
  }
  const held = await checks.held(decoded.map(d => d.entry.hash))
  const checked = await Promise.all(decoded.map(async ({ entry, cid, bytes, signedBytes }, i): Promise<Checked | undefined> => {
    if (held[i] === true) return undefined
    try {
      assertLogEntry(entry, checks.logId)
      const signed = await checks.access.check(entry, { verify: checks.verify, entrySignature: true, signedEntryBytes: signedBytes })
      return { entry, cid, bytes, signed }
    } catch (err) {
      rejected++
      checks.onRejected(entry.hash, err as Error)
      return undefined
    }
  }))
  return { checked, rejected }
}
