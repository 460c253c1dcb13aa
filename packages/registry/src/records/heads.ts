import { InvalidFieldError, InvalidSignatureError, MalformedRecordError } from '../errors.ts'
import { decodeCanonical, encodeCanonical } from './codec.ts'
import { didToPublicKey, isDidKey } from './did-key.ts'
import { sign, verify } from './ed25519.ts'
import type { PublisherKey } from './ed25519.ts'

/**
 * Signed heads: a mirror's statement "at `time`, my copy of registry `registry` had these heads
 * and this many records", signed with the mirror's Ed25519 key. Readers use them against
 * indefinite freeze: a reader that hears no fresh statement from any mirror it trusts for longer
 * than its configured age knows its view may be stale (see @hubless/query's freshness tracker).
 * They are not log entries, so the log's schema and every peer's access controller are untouched.
 */
export interface HeadsAnnouncement {
  v: 1
  kind: 'heads'
  /** the registry's OrbitDB address, `/orbitdb/zdpu…` */
  registry: string
  /** the mirror's did:key; it signs the announcement */
  mirror: string
  /** hashes of the mirror's log heads */
  heads: string[]
  records: number
  /** ms since epoch, by the mirror's clock */
  time: number
}

export interface SignedHeads {
  announcement: HeadsAnnouncement
  /** canonical dag-cbor of `announcement`, the signed bytes */
  bytes: Uint8Array
  signature: Uint8Array
}

export const MAX_HEADS_BYTES = 16 * 1024
const MAX_HEADS = 64

function checkAnnouncement (value: unknown): HeadsAnnouncement {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MalformedRecordError('a heads announcement must be a map')
  const a = value as Record<string, unknown>
  const known = ['v', 'kind', 'registry', 'mirror', 'heads', 'records', 'time']
  const unknown = Object.keys(a).filter(k => !known.includes(k))
  if (unknown.length > 0) throw new InvalidFieldError(`a heads announcement has unknown fields: ${unknown.slice(0, 5).join(', ')}`)
  if (a.v !== 1 || a.kind !== 'heads') throw new InvalidFieldError('a heads announcement must have v 1 and kind "heads"')
  if (typeof a.registry !== 'string' || !a.registry.startsWith('/orbitdb/') || a.registry.length > 200) throw new InvalidFieldError('heads.registry must be an /orbitdb/ address')
  if (!isDidKey(a.mirror)) throw new InvalidFieldError('heads.mirror must be an Ed25519 did:key')
  if (!Array.isArray(a.heads) || a.heads.length > MAX_HEADS || !a.heads.every(h => typeof h === 'string' && h.length > 0 && h.length <= 128)) {
    throw new InvalidFieldError(`heads.heads must be at most ${MAX_HEADS} entry hashes`)
  }
  if (!Number.isSafeInteger(a.records) || (a.records as number) < 0) throw new InvalidFieldError('heads.records must be a whole number')
  if (!Number.isSafeInteger(a.time) || (a.time as number) < 0) throw new InvalidFieldError('heads.time must be ms since epoch')
  return a as unknown as HeadsAnnouncement
}

/** Sign a mirror's heads with its key; `time` defaults to now */
export async function signHeads (init: { registry: string, heads: string[], records: number, time?: number }, key: PublisherKey): Promise<SignedHeads> {
  const announcement = checkAnnouncement({ v: 1, kind: 'heads', registry: init.registry, mirror: key.did, heads: init.heads, records: init.records, time: init.time ?? Date.now() })
  const bytes = encodeCanonical(announcement)
  return { announcement, bytes, signature: await sign(bytes, key) }
}

/** The wire form: canonical dag-cbor `{ h: bytes, s: signature }` */
export function encodeSignedHeads (signed: SignedHeads): Uint8Array {
  return encodeCanonical({ h: signed.bytes, s: signed.signature })
}

/** Decode and verify a heads announcement: size, canonical bytes, schema, the mirror's signature */
export async function decodeSignedHeads (wire: Uint8Array): Promise<SignedHeads> {
  const envelope = decodeCanonical(wire, MAX_HEADS_BYTES + 128, 'the heads envelope')
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) throw new MalformedRecordError('the heads envelope must be a map { h, s }')
  const { h, s, ...rest } = envelope as Record<string, unknown>
  if (Object.keys(rest).length > 0 || !(h instanceof Uint8Array) || !(s instanceof Uint8Array) || s.byteLength !== 64) {
    throw new MalformedRecordError('the heads envelope must be exactly { h: bytes, s: 64-byte signature }')
  }
  const announcement = checkAnnouncement(decodeCanonical(h, MAX_HEADS_BYTES, 'the heads announcement'))
  if (!(await verify(s, h, didToPublicKey(announcement.mirror)))) {
    throw new InvalidSignatureError(`the heads announcement is not signed by ${announcement.mirror}`)
  }
  return { announcement, bytes: h, signature: s }
}

/** The gossip topic a registry's mirrors announce signed heads on */
export function headsTopic (registryAddress: string): string {
  return `${registryAddress}/hubless-heads`
}
