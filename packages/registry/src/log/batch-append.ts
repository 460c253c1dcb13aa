import { createHash } from 'node:crypto'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'
import { base58btcEncode } from '@hubless/net/multibase'
import { encodeSignedRecord } from '../records/signed.ts'
import { ORBITDB_ENTRY_VERSION } from '../records/types.ts'
import type { SignedRecord } from '../records/types.ts'
import type { Identity, Log, LogEntry, Storage } from '@orbitdb/core'

/**
 * A batch of a publisher's records as one linear chain of OrbitDB entries on top of the log's
 * heads: what as many `db.add` calls would write (same payload, clock, `next` and `refs` rule,
 * the same signature by the writer identity), built without a log round trip per entry, so that
 * the registry can store the blocks and index in one batch each and join the chain once.
 */

export interface ChainedEntry {
  entry: LogEntry & { hash: string }
  cid: CID
  bytes: Uint8Array
  /** the bytes the entry's signature signs */
  signedBytes: Uint8Array
}

export interface ChainInit {
  log: Pick<Log, 'id' | 'heads' | 'traverse'>
  writer: Identity
  /** past entries each entry names besides its parent (OrbitDB's `referencesCount`) */
  referencesCount: number
}

/**
 * The first `amount` entries of a traversal from the heads, as OrbitDB's `getReferences(heads,
 * referencesCount + heads.length)` (oplog/log.js) walks them; an append's `refs` are these
 * without the heads (measured on OrbitDB 4.0.0: after e1 … e3, e4 names e3 and refs e2, e1;
 * the test "writes the very entries that as many publish calls write" holds us to it)
 */
async function traversal (log: ChainInit['log'], heads: LogEntry[], amount: number): Promise<string[]> {
  const seen: string[] = []
  for await (const { hash } of log.traverse(heads, () => seen.length >= amount)) seen.push(hash!)
  return seen
}

/** Entries for `records`, in order, each the next of the one before, the first on the log's current heads */
export async function chainEntries (records: SignedRecord[], init: ChainInit): Promise<ChainedEntry[]> {
  const { log, writer, referencesCount } = init
  const sign = writer.sign
  if (sign == null) throw new TypeError('a batch is written by an identity that can sign')
  const heads = await log.heads()
  let time = heads.reduce((max, h) => Math.max(max, h.clock.time), 0)
  let next = heads.map(h => h.hash!)
  // the traversal a next append would start from: its refs are this list without its heads
  let trail = await traversal(log, heads, referencesCount + heads.length)
  const out: ChainedEntry[] = []
  for (const record of records) {
    const refs = trail.slice(next.length, referencesCount + next.length)
    // OrbitDB's Entry.create and Entry.encode (oplog/entry.js), with one encoding of each form
    const unsigned = { id: log.id, payload: { op: 'ADD', key: null, value: encodeSignedRecord(record) }, next, refs, clock: { id: writer.publicKey, time: ++time }, v: ORBITDB_ENTRY_VERSION }
    const signedBytes = dagCbor.encode(unsigned)
    const entry = { ...unsigned, key: writer.publicKey, identity: writer.hash, sig: await sign(writer, signedBytes) }
    const bytes = dagCbor.encode(entry)
    const cid = CID.createV1(dagCbor.code, Digest.create(sha256.code, createHash('sha256').update(bytes).digest()))
    const hash = base58btcEncode(cid.bytes)
    out.push({ entry: { ...entry, hash }, cid, bytes, signedBytes })
    next = [hash]
    trail = [hash, ...trail].slice(0, referencesCount + 1)
  }
  return out
}

/**
 * OrbitDB's heads storage, dropping the heads named in `covered` when it writes them. OrbitDB's
 * join keeps every old head that the new head does not name as `next` (oplog/heads.js); a
 * chain joined by its last entry covers the old heads through its first one, which the join
 * does not walk to. While a chain is joined, its first entry's parents are `covered`.
 */
export function headsStorage (inner: Storage, covered: Set<string>): Storage {
  const decoder = new TextDecoder()
  const encoder = new TextEncoder()
  return {
    ...inner,
    put: async (key, value) => {
      if (key === 'heads' && covered.size > 0 && value instanceof Uint8Array) {
        const heads = JSON.parse(decoder.decode(value)) as Array<{ hash: string }>
        value = encoder.encode(JSON.stringify(heads.filter(h => !covered.has(h.hash))))
      }
      await inner.put(key, value)
    },
    get: async key => inner.get(key),
    del: async key => { await inner.del(key) },
    iterator: inner.iterator.bind(inner),
    close: async () => { await inner.close() }
  }
}
