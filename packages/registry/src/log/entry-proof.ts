import * as dagCbor from '@ipld/dag-cbor'
import { readCachedEntry } from '../codecs/entry-bytes.ts'
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
 * The writer identity an entry in the record cache names and, `withProof`, {@link entryProofOf}
 * it, from its bytes (checked when the entry entered the log). `hashes` gives the strings of
 * entry hashes already held, so that `next` and `refs` share them rather than hold copies. Throws
 * when a proof is asked of bytes that are no entry; an identity that cannot be read is undefined.
 */
export function cachedEntryFields (bytes: Uint8Array, withProof: boolean, hashes?: Map<string, string>): { identity?: string, proof?: EntryProof } {
  const fast = readCachedEntry(bytes, withProof, intern, value => hashes?.get(value) ?? value)
  if (fast !== undefined) return fast
  let entry: LogEntry | undefined
  try {
    entry = dagCbor.decode(bytes) as LogEntry
  } catch (err) {
    if (withProof) throw err
    return {}
  }
  const identity = typeof entry?.identity === 'string' ? intern(entry.identity) : undefined
  if (!withProof) return identity === undefined ? {} : { identity }
  const proof = entryProofOf(entry)
  return identity === undefined ? { proof } : { identity, proof }
}
