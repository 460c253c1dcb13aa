import * as dagCbor from '@ipld/dag-cbor'
import { base32 } from 'multiformats/bases/base32'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { equals } from 'uint8arrays/equals'
import { MalformedRecordError, OversizeRecordError } from '../errors.ts'

/** Largest canonical record (the unsigned part) a registry accepts */
export const MAX_RECORD_BYTES = 64 * 1024
/** Largest wire envelope: a record plus two signatures and framing */
export const MAX_ENVELOPE_BYTES = MAX_RECORD_BYTES + 256

/** Canonical dag-cbor of a value; throws MalformedRecordError for values dag-cbor cannot hold (undefined, floats like NaN, …) */
export function encodeCanonical (value: unknown): Uint8Array {
  try {
    return dagCbor.encode(value)
  } catch (err) {
    throw new MalformedRecordError(`the value cannot be encoded as dag-cbor: ${(err as Error).message}`)
  }
}

/**
 * Decode dag-cbor and insist the bytes are the one canonical encoding of what they hold, so that
 * a record has exactly one byte form, one id and one signature input.
 */
export function decodeCanonical (bytes: Uint8Array, maxBytes: number, what: string): unknown {
  if (!(bytes instanceof Uint8Array)) {
    throw new MalformedRecordError(`${what} must be bytes`)
  }
  if (bytes.byteLength > maxBytes) {
    throw new OversizeRecordError(`${what} is ${bytes.byteLength} bytes; the limit is ${maxBytes}`)
  }
  let value: unknown
  try {
    value = dagCbor.decode(bytes)
  } catch (err) {
    throw new MalformedRecordError(`${what} is not valid dag-cbor: ${(err as Error).message}`)
  }
  let again: Uint8Array
  try {
    again = dagCbor.encode(value)
  } catch (err) {
    throw new MalformedRecordError(`${what} cannot be re-encoded: ${(err as Error).message}`)
  }
  if (!equals(again, bytes)) {
    throw new MalformedRecordError(`${what} is not canonically encoded dag-cbor (re-encoding gives different bytes)`)
  }
  return value
}

/** CIDv1 (dag-cbor, sha2-256) of canonical record bytes, as a base32 string */
export async function recordIdOf (bytes: Uint8Array): Promise<string> {
  const digest = await sha256.digest(bytes)
  // CID#toString() (base32), without the per-CID string cache it fills
  return base32.encode(CID.createV1(dagCbor.code, digest).bytes)
}

/** true when `id` is the canonical string of a CIDv1 dag-cbor sha2-256: the shape of a record id */
export function isRecordId (id: unknown): id is string {
  if (typeof id !== 'string' || id.length > 128) return false
  try {
    const cid = CID.parse(id)
    return cid.version === 1 && cid.code === dagCbor.code && cid.multihash.code === sha256.code &&
      cid.multihash.size === 32 && cid.toString() === id
  } catch {
    return false
  }
}

/** true when `value` is a CID in its canonical string form (v0 base58btc or v1 base32) */
export function isCidString (value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 256) return false
  try {
    return CID.parse(value).toString() === value
  } catch {
    return false
  }
}
