import * as dagCbor from '@ipld/dag-cbor'
import { readEntryProof } from './entry-bytes.ts'
import type { EntryProof } from '../records/types.ts'
import type { LogEntry } from '@orbitdb/core'

/** log ids and writer keys repeat across every record: one string each, not one per record */
const shared = new Map<string, string>()
function intern (value: string): string {
  const known = shared.get(value)
  if (known !== undefined) return known
  if (shared.size >= 4096) shared.clear()
  shared.set(value, value)
  return value
}

/** The proof a record without its own signature carries: the fields of the entry that signs it */
export function entryProofOf (entry: LogEntry): EntryProof {
  return { id: intern(entry.id), next: entry.next, refs: entry.refs, clock: { id: intern(entry.clock.id), time: entry.clock.time }, v: entry.v, sig: entry.sig }
}

/**
 * {@link entryProofOf} from the entry's bytes (entries in the record cache were checked when they
 * entered the log). `hashes` gives the strings of entry hashes already held, so that `next` and
 * `refs` share them rather than hold copies.
 */
export function entryProofFromBytes (bytes: Uint8Array, hashes?: Map<string, string>): EntryProof {
  const proof = readEntryProof(bytes, intern, value => hashes?.get(value) ?? value)
  return proof ?? entryProofOf(dagCbor.decode(bytes) as LogEntry)
}
