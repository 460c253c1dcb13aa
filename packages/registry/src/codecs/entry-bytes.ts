import { cborHeadSize, cborHeadValue } from './cbor-head.ts'
import type { EntryProof } from '../records/types.ts'
import type { LogEntry } from '@orbitdb/core'

/**
 * A fast path for the shape of nearly every entry a snapshot brings: an OrbitDB v2 events-log
 * entry `{ v, id, key, sig, next, refs, clock: { id, time }, payload: { op, key: null, value },
 * identity }` in its canonical dag-cbor form, with ASCII strings. For such bytes the entry is the
 * value `dagCbor.decode` gives, and the bytes its signature covers (the canonical encoding of
 * `{ id, payload, next, refs, clock, v }`, what OrbitDB's `Entry.verify` re-encodes) are pieces of
 * the entry's own bytes: canonical key order puts the six signed fields in the same order in both
 * maps. Anything else (another layout, a non-minimal length, a non-ASCII string) returns
 * undefined, and the caller takes dag-cbor's generic decoder and re-encoding, so both paths agree
 * on every input (a property test compares them).
 */
export interface ParsedEntry {
  entry: LogEntry
  /** what the entry's signature signs */
  signedBytes: Uint8Array
}

const MAJOR_UINT = 0
const MAJOR_BYTES = 2
const MAJOR_TEXT = 3
const MAJOR_ARRAY = 4
const MAJOR_MAP = 5
const NULL = 0xf6

/** The ASCII bytes of a map key, with its one-byte text header */
function keyBytes (key: string): number[] {
  return [0x60 + key.length, ...[...key].map(c => c.charCodeAt(0))]
}
const KEYS = Object.fromEntries(['v', 'id', 'key', 'sig', 'next', 'refs', 'clock', 'payload', 'identity', 'time', 'op', 'value'].map(k => [k, keyBytes(k)])) as Record<string, number[]>

class Reader {
  pos = 0
  readonly bytes: Uint8Array
  readonly buffer: Buffer
  constructor (bytes: Uint8Array) {
    this.bytes = bytes
    this.buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  /** the argument of a head of major type `major`, minimally encoded and <= 2^53 - 1; -1 when not */
  head (major: number): number {
    const value = cborHeadValue(this.bytes, this.pos, major)
    if (value >= 0) this.pos += cborHeadSize(this.bytes[this.pos]!)
    return value
  }

  key (key: string): boolean {
    const expected = KEYS[key]!
    const b = this.bytes
    if (this.pos + expected.length > b.length) return false
    for (let i = 0; i < expected.length; i++) if (b[this.pos + i] !== expected[i]) return false
    this.pos += expected.length
    return true
  }

  /** an ASCII text string, or undefined */
  text (): string | undefined {
    const length = this.head(MAJOR_TEXT)
    if (length < 0 || this.pos + length > this.bytes.length) return undefined
    const b = this.bytes
    const end = this.pos + length
    for (let i = this.pos; i < end; i++) if (b[i]! > 0x7f) return undefined
    // latin1 equals ASCII for these bytes, decoded in one native call
    const out = this.buffer.toString('latin1', this.pos, end)
    this.pos = end
    return out
  }

  /** past a byte or text string, without reading it; false when there is none */
  skipString (major: number): boolean {
    const length = this.head(major)
    if (length < 0 || this.pos + length > this.bytes.length) return false
    this.pos += length
    return true
  }

  texts (): string[] | undefined {
    const count = this.head(MAJOR_ARRAY)
    if (count < 0 || count > this.bytes.length - this.pos) return undefined
    const out: string[] = []
    for (let i = 0; i < count; i++) {
      const t = this.text()
      if (t === undefined) return undefined
      out.push(t)
    }
    return out
  }
}

/** The fields up to the clock, in canonical order, and where the unsigned `key` and `sig` lie */
interface Head {
  v: number
  id: string
  key: string | undefined
  sig: string
  next: string[]
  refs: string[]
  clock: { id: string, time: number }
  /** where `key` starts and where `next` starts: the signed fields are around them */
  unsignedStart: number
  signedRest: number
}

/** `{ v, id, key, sig, next, refs, clock` of a canonical entry; `key` is skipped unless `withKey` */
function readHead (r: Reader, withKey: boolean): Head | undefined {
  if (r.head(MAJOR_MAP) !== 9 || !r.key('v')) return undefined
  const v = r.head(MAJOR_UINT)
  if (v < 0 || !r.key('id')) return undefined
  const id = r.text()
  if (id === undefined) return undefined
  const unsignedStart = r.pos
  if (!r.key('key')) return undefined
  const key = withKey ? r.text() : undefined
  if ((withKey ? key === undefined : !r.skipString(MAJOR_TEXT)) || !r.key('sig')) return undefined
  const sig = r.text()
  if (sig === undefined) return undefined
  const signedRest = r.pos
  if (!r.key('next')) return undefined
  const next = r.texts()
  if (next === undefined || !r.key('refs')) return undefined
  const refs = r.texts()
  if (refs === undefined || !r.key('clock') || r.head(MAJOR_MAP) !== 2 || !r.key('id')) return undefined
  const clockId = r.text()
  if (clockId === undefined || !r.key('time')) return undefined
  const time = r.head(MAJOR_UINT)
  if (time < 0) return undefined
  return { v, id, key, sig, next, refs, clock: { id: clockId, time }, unsignedStart, signedRest }
}

/** `payload: { op, key: null, value }, identity }` after the clock; the value is copied only if `withValue` */
function readTail (r: Reader, withValue: boolean): { op: string, value: Uint8Array | undefined, signedEnd: number, identity: string } | undefined {
  if (!r.key('payload') || r.head(MAJOR_MAP) !== 3 || !r.key('op')) return undefined
  const op = r.text()
  if (op === undefined || !r.key('key') || r.bytes[r.pos] !== NULL) return undefined
  r.pos++
  if (!r.key('value')) return undefined
  const valueLength = r.head(MAJOR_BYTES)
  if (valueLength < 0 || r.pos + valueLength > r.bytes.length) return undefined
  // a copy, and a plain Uint8Array even when `bytes` is a Buffer (whose slice is a view)
  const value = withValue ? new Uint8Array(r.bytes.subarray(r.pos, r.pos + valueLength)) : undefined
  r.pos += valueLength
  const signedEnd = r.pos
  if (!r.key('identity')) return undefined
  const identity = r.text()
  if (identity === undefined || r.pos !== r.bytes.length) return undefined
  return { op, value, signedEnd, identity }
}

/** The entry and its signed bytes, or undefined when `bytes` is not the canonical common shape */
export function parseCanonicalEntry (bytes: Uint8Array): ParsedEntry | undefined {
  const r = new Reader(bytes)
  const head = readHead(r, true)
  if (head === undefined || head.key === undefined) return undefined
  const tail = readTail(r, true)
  if (tail === undefined || tail.value === undefined) return undefined
  // the map header (1 byte) is replaced: six fields instead of nine
  const { unsignedStart, signedRest } = head
  const signedBytes = new Uint8Array(unsignedStart + (tail.signedEnd - signedRest))
  signedBytes[0] = 0xa6
  signedBytes.set(bytes.subarray(1, unsignedStart), 1)
  signedBytes.set(bytes.subarray(signedRest, tail.signedEnd), unsignedStart)
  const { v, id, key, sig, next, refs, clock } = head
  const entry: LogEntry = { id, payload: { op: tail.op, key: null, value: tail.value }, next, refs, clock, v, key, identity: tail.identity, sig }
  return { entry, signedBytes }
}

/**
 * What the record cache reads of each entry it loads, in one walk of the entry's canonical bytes
 * and copying no payload: the writer identity it names and, `withProof`, the fields of an
 * {@link EntryProof} (for a record its entry signs). `shared` and `hash` may return an equal
 * string already held (the log id and writer key; the entry hashes of `next` and `refs`).
 * Undefined when the bytes are not the common shape.
 */
export function readCachedEntry (bytes: Uint8Array, withProof: boolean, shared: (value: string) => string, hash: (value: string) => string): { identity: string, proof?: EntryProof } | undefined {
  const r = new Reader(bytes)
  const head = readHead(r, false)
  if (head === undefined) return undefined
  const tail = readTail(r, false)
  if (tail === undefined) return undefined
  const identity = shared(tail.identity)
  if (!withProof) return { identity }
  const { v, id, sig, next, refs, clock } = head
  return { identity, proof: { id: shared(id), next: next.map(hash), refs: refs.map(hash), clock: { id: shared(clock.id), time: clock.time }, v, sig } }
}
