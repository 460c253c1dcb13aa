import { equals } from 'uint8arrays/equals'
import { fromString } from 'uint8arrays/from-string'
import { toString as bytesToString } from 'uint8arrays/to-string'
import {
  InvalidPublisherKeyError, InvalidSignatureError, MalformedRecordError, OversizeRecordError
} from '../errors.ts'
import { decodeCanonical, encodeCanonical, MAX_ENVELOPE_BYTES, MAX_RECORD_BYTES, parseCanonicalEnvelope, recordIdOf } from './codec.ts'
import { didToPublicKey } from './did-key.ts'
import { sign, verify } from './ed25519.ts'
import type { PublisherKey } from './ed25519.ts'
import { withoutUndefined } from './builders.ts'
import { validateRecord } from './schema.ts'
import { assertWellFormedText } from './text-rules.ts'
import type { EntryProof, RotateKeyRecord, SignedRecord, UnsignedRecord } from './types.ts'

/** Verification is quick and local; the signal is checked before the work starts */
export interface VerifyOptions {
  signal?: AbortSignal
}

export interface SignOptions extends VerifyOptions {
  /** rotate-key only: the new key, which countersigns the record */
  newKey?: PublisherKey
}

/** The JSON form of a signed record (HTTP mirrors, exports); {@link recordFromJSON} verifies it */
export interface SignedRecordJSON {
  id: string
  record: UnsignedRecord
  /** base64url (no padding) Ed25519 signature over the canonical dag-cbor of `record` */
  signature?: string
  /** instead of `signature`: the log entry, written by the publisher, that signs the record */
  entry?: EntryProof
  countersignature?: string
}

function checkSize (bytes: Uint8Array): void {
  if (bytes.byteLength > MAX_RECORD_BYTES) {
    throw new OversizeRecordError(`the record encodes to ${bytes.byteLength} bytes; the limit is ${MAX_RECORD_BYTES}. Shorten the description or lists`)
  }
}

/**
 * Validate `record`, encode it canonically and sign it with `key`, which must be the record's
 * publisher. A rotate-key record is also countersigned by `options.newKey`.
 */
export async function signRecord<R extends UnsignedRecord> (record: R, key: PublisherKey, options: SignOptions = {}): Promise<SignedRecord<R>> {
  const signed = await prepareRecord(record, key, options)
  signed.signature = await sign(signed.bytes, key)
  return signed
}

/**
 * What {@link signRecord} makes, without the publisher's own signature: for the registry's
 * `publish`, where the log entry the publisher writes signs the record ({@link EntryProof}).
 */
export async function prepareRecord<R extends UnsignedRecord> (record: R, key: PublisherKey, options: SignOptions = {}): Promise<SignedRecord<R>> {
  options.signal?.throwIfAborted()
  // before encoding too: the encoder turns a lone surrogate into U+FFFD, and the decoder drops a
  // leading U+FEFF, so that what the publisher gave and what they would sign could differ
  validateRecord(withoutUndefined(record))
  const bytes = encodeCanonical(record)
  checkSize(bytes)
  // validate what will be read back, not the caller's object (which may hold undefined fields)
  const decoded = validateRecord(decodeCanonical(bytes, MAX_RECORD_BYTES, 'record')) as R
  if (decoded.publisher !== key.did) {
    throw new InvalidPublisherKeyError(`record.publisher is ${decoded.publisher} but the signing key is ${key.did}`)
  }
  const signed: SignedRecord<R> = { id: await recordIdOf(bytes), record: decoded, bytes }
  if (decoded.kind === 'rotate-key') {
    const newKey = options.newKey
    if (newKey == null || newKey.did !== (decoded as RotateKeyRecord).newKey) {
      throw new InvalidSignatureError('a rotate-key record must be countersigned by its newKey: pass options.newKey')
    }
    signed.countersignature = await sign(bytes, newKey)
  } else if (options.newKey != null) {
    throw new InvalidSignatureError(`only rotate-key records carry a countersignature, not ${decoded.kind}`)
  }
  return signed
}

/** Add the new key's countersignature to a rotate-key record signed elsewhere */
export async function countersignRecord (signed: SignedRecord<RotateKeyRecord>, newKey: PublisherKey): Promise<SignedRecord<RotateKeyRecord>> {
  if (signed.record.kind !== 'rotate-key' || signed.record.newKey !== newKey.did) {
    throw new InvalidSignatureError('only a rotate-key record naming this key as newKey can be countersigned by it')
  }
  return { ...signed, countersignature: await sign(signed.bytes, newKey) }
}

/** An Ed25519 check: {@link verify}, or a caller's that checks many at once */
export type VerifySignature = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => Promise<boolean>

/**
 * The publisher's signature: the record's own, or else its entry's. `entryChecked` is for the
 * log's access controller, which checks the entry's signature itself when the publisher wrote
 * the entry: a record without its own signature is then signed by that entry.
 */
async function checkSignatures (signed: SignedRecord, entryChecked = false, verifyFn: VerifySignature = verify): Promise<void> {
  const { bytes, record, signature, countersignature } = signed
  const rotate = record.kind === 'rotate-key'
  let own: boolean | Promise<boolean>
  if (signature != null) {
    own = verifyFn(signature, bytes, didToPublicKey(record.publisher))
  } else if (entryChecked) {
    own = true
  } else if (signed.entry != null) {
    own = verifyEntryProof(signed, signed.entry, verifyFn)
  } else {
    throw new InvalidSignatureError('the record has no signature of its own and no log entry that signs it')
  }
  // both checks in flight at once (a caller's verifyFn may batch them); the verdicts are read in a fixed order
  const [signatureValid, countersignatureValid] = await Promise.all([
    own,
    !rotate || countersignature == null || verifyFn(countersignature, bytes, didToPublicKey((record as RotateKeyRecord).newKey))
  ])
  if (!signatureValid) {
    throw new InvalidSignatureError(signature != null
      ? `the signature does not verify against the publisher ${record.publisher}`
      : `the log entry that carries the record is not signed by its publisher ${record.publisher}`)
  }
  if (rotate) {
    if (countersignature == null) {
      throw new InvalidSignatureError('a rotate-key record needs a countersignature by its new key')
    }
    if (!countersignatureValid) {
      throw new InvalidSignatureError(`the countersignature does not verify against the new key ${(record as RotateKeyRecord).newKey}`)
    }
  } else if (countersignature != null) {
    throw new MalformedRecordError(`a ${record.kind} record carries no countersignature`)
  }
}

function isStringArray (value: unknown, max: number): value is string[] {
  return Array.isArray(value) && value.length <= max && value.every(v => typeof v === 'string' && v.length <= 256)
}

/** An entry proof's fields, checked for shape (MalformedRecordError) before anything is encoded */
export function checkEntryProof (value: unknown): EntryProof {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MalformedRecordError('the entry proof must be an object { id, next, refs, clock, v, sig }')
  const { id, next, refs, clock, v, sig, ...rest } = value as Record<string, unknown>
  if (Object.keys(rest).length > 0) throw new MalformedRecordError(`unknown fields in the entry proof: ${Object.keys(rest).slice(0, 5).join(', ')}`)
  if (typeof id !== 'string' || id.length > 256) throw new MalformedRecordError('entry.id must be the log id')
  if (!isStringArray(next, 1024) || !isStringArray(refs, 1024)) throw new MalformedRecordError('entry.next and entry.refs must be lists of entry hashes')
  const c = clock as Record<string, unknown> | null
  if (typeof c !== 'object' || c === null || typeof c.id !== 'string' || c.id.length > 256 || !Number.isSafeInteger(c.time) || (c.time as number) < 0 || Object.keys(c).length !== 2) {
    throw new MalformedRecordError('entry.clock must be { id, time }')
  }
  if (!Number.isSafeInteger(v) || (v as number) < 0) throw new MalformedRecordError('entry.v must be a whole number')
  if (typeof sig !== 'string' || !/^[0-9a-f]{128}$/.test(sig)) throw new MalformedRecordError('entry.sig must be a 64-byte signature in lowercase hex')
  return { id, next, refs, clock: { id: c.id, time: c.time as number }, v: v as number, sig }
}

/** true when the entry's signature, by the record's publisher, covers this record */
async function verifyEntryProof (signed: SignedRecord, proof: EntryProof, verifyFn: VerifySignature): Promise<boolean> {
  const { id, next, refs, clock, v, sig } = checkEntryProof(proof)
  // the entry's payload, as the registry writes it: an events-log ADD of the wire envelope
  const payload = { op: 'ADD', key: null, value: encodeSignedRecord({ ...signed, signature: undefined }) }
  const bytes = encodeCanonical({ id, payload, next, refs, clock, v })
  return verifyFn(fromString(sig, 'base16'), bytes, didToPublicKey(signed.record.publisher))
}

function isBytes (value: unknown): value is Uint8Array {
  return value instanceof Uint8Array
}

/**
 * Parse and schema-check a wire envelope WITHOUT checking its signatures. For callers that hold
 * a proof the bytes were verified before (a cache keyed by the envelope's hash); everyone else
 * uses {@link decodeSignedRecord}.
 */
export async function parseSignedRecord (wire: Uint8Array): Promise<SignedRecord> {
  const envelope = (wire instanceof Uint8Array && wire.byteLength <= MAX_ENVELOPE_BYTES ? parseCanonicalEnvelope(wire) : undefined) ??
    decodeCanonical(wire, MAX_ENVELOPE_BYTES, 'the record envelope')
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope) || isBytes(envelope)) {
    throw new MalformedRecordError('the record envelope must be a map { r, s?, c? }')
  }
  const { r, s, c, ...rest } = envelope as Record<string, unknown>
  if (Object.keys(rest).length > 0) {
    throw new MalformedRecordError(`the record envelope has unknown fields: ${Object.keys(rest).slice(0, 5).join(', ')}`)
  }
  if (!isBytes(r)) throw new MalformedRecordError('envelope.r must be the record bytes')
  if (s !== undefined && (!isBytes(s) || s.byteLength !== 64)) throw new MalformedRecordError('envelope.s must be a 64-byte Ed25519 signature')
  if (c !== undefined && (!isBytes(c) || c.byteLength !== 64)) throw new MalformedRecordError('envelope.c must be a 64-byte Ed25519 signature')
  if (r.byteLength > MAX_RECORD_BYTES) {
    throw new OversizeRecordError(`the record is ${r.byteLength} bytes; the limit is ${MAX_RECORD_BYTES}`)
  }
  const record = validateRecord(decodeCanonical(r, MAX_RECORD_BYTES, 'the record'))
  const signed: SignedRecord = { id: await recordIdOf(r), record, bytes: r }
  if (s !== undefined) signed.signature = s
  if (c !== undefined) signed.countersignature = c
  return signed
}

/**
 * For the log's access controller: parse a wire envelope and check it like
 * {@link decodeSignedRecord}, except that a record without its own signature is accepted when
 * `publisherWroteEntry` says the entry carrying it was written by the record's publisher, whose
 * signature on that entry the caller checks. A record's own signature, and the countersignature
 * of a rotate-key record, are always checked.
 */
export async function decodeLogRecord (wire: Uint8Array, publisherWroteEntry: (record: UnsignedRecord) => boolean, verifyFn?: VerifySignature): Promise<SignedRecord> {
  const signed = await parseSignedRecord(wire)
  await checkSignatures(signed, publisherWroteEntry(signed.record), verifyFn)
  return signed
}

/** The one wire form of a signed record: canonical dag-cbor `{ r: bytes, s?: signature, c?: countersignature }` */
export function encodeSignedRecord (signed: SignedRecord): Uint8Array {
  const envelope: Record<string, Uint8Array> = { r: signed.bytes }
  if (signed.signature != null) envelope.s = signed.signature
  if (signed.countersignature != null) envelope.c = signed.countersignature
  return encodeCanonical(envelope)
}

/** Decode a wire envelope and verify everything: canonical bytes, size, schema, signatures */
export async function decodeSignedRecord (wire: Uint8Array, options?: VerifyOptions): Promise<SignedRecord> {
  options?.signal?.throwIfAborted()
  const signed = await parseSignedRecord(wire)
  await checkSignatures(signed)
  return signed
}

/**
 * Verify a signed record given as wire bytes or as an object. The result is rebuilt from the
 * signed bytes, so nothing in a caller's `record` object that differs from them survives.
 */
export async function verifyRecord (input: Uint8Array | SignedRecord, options?: VerifyOptions): Promise<SignedRecord> {
  options?.signal?.throwIfAborted()
  if (isBytes(input)) return decodeSignedRecord(input)
  if (typeof input !== 'object' || input === null || !isBytes(input.bytes) || (input.signature == null ? input.entry == null : !isBytes(input.signature))) {
    throw new MalformedRecordError('expected wire bytes or a SignedRecord { id, record, bytes, signature or entry }')
  }
  // structure, id and record first: cheaper than signatures, and the more telling error
  const signed = await parseSignedRecord(encodeSignedRecord(input))
  if (input.id !== signed.id) {
    // the id may be anything a caller parsed from JSON, even an object String() cannot convert
    const shown = typeof input.id === 'string' ? input.id.slice(0, 80) : `of type ${typeof input.id}`
    throw new MalformedRecordError(`the record id ${shown} is not the hash of its bytes (${signed.id})`)
  }
  if (input.record != null) assertWellFormedText(input.record)
  if (input.record != null && !equals(encodeCanonical(input.record), signed.bytes)) {
    throw new MalformedRecordError('the record object differs from the signed bytes')
  }
  if (signed.signature == null) signed.entry = checkEntryProof(input.entry)
  await checkSignatures(signed)
  return signed
}

/** The JSON form of a signed record, for HTTP mirrors; the canonical bytes are the dag-cbor of `record` */
export function recordToJSON (signed: SignedRecord): SignedRecordJSON {
  const json: SignedRecordJSON = { id: signed.id, record: signed.record }
  if (signed.signature != null) json.signature = bytesToString(signed.signature, 'base64url')
  else if (signed.entry != null) json.entry = signed.entry
  if (signed.countersignature != null) json.countersignature = bytesToString(signed.countersignature, 'base64url')
  return json
}

function b64 (value: unknown, what: string): Uint8Array {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{86}$/.test(value)) {
    throw new MalformedRecordError(`${what} must be a 64-byte signature in base64url without padding`)
  }
  return fromString(value, 'base64url')
}

/** Rebuild and verify a signed record from its JSON form (a string or the parsed value) */
export async function recordFromJSON (json: string | SignedRecordJSON, options?: VerifyOptions): Promise<SignedRecord> {
  options?.signal?.throwIfAborted()
  let value: unknown = json
  if (typeof json === 'string') {
    if (json.length > MAX_ENVELOPE_BYTES * 4) throw new OversizeRecordError(`the JSON record is ${json.length} characters; too large`)
    try {
      value = JSON.parse(json)
    } catch (err) {
      throw new MalformedRecordError(`not JSON: ${(err as Error).message}`)
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MalformedRecordError('a JSON record must be an object { id, record, signature or entry, countersignature? }')
  }
  const { id, record, signature, entry, countersignature, ...rest } = value as Record<string, unknown>
  if (Object.keys(rest).length > 0) throw new MalformedRecordError(`unknown fields in the JSON record: ${Object.keys(rest).slice(0, 5).join(', ')}`)
  if (typeof id !== 'string') throw new MalformedRecordError('the JSON record\'s id must be a string (the record\'s CID)')
  // JSON can spell a lone surrogate ("\ud800"); encoding would make it U+FFFD and verify other text than was sent
  assertWellFormedText(record)
  const bytes = encodeCanonical(record)
  const signed: SignedRecord = { id: id as string, record: record as UnsignedRecord, bytes }
  if (signature !== undefined && entry !== undefined) throw new MalformedRecordError('a JSON record carries a signature or an entry, not both')
  if (signature !== undefined || entry === undefined) signed.signature = b64(signature, 'signature')
  else signed.entry = checkEntryProof(entry)
  if (countersignature !== undefined) signed.countersignature = b64(countersignature, 'countersignature')
  return verifyRecord(signed)
}
