import { base58btc } from 'multiformats/bases/base58'
import { InvalidPublisherKeyError } from '../errors.ts'

/** multicodec ed25519-pub (0xed) as an unsigned varint */
const ED25519_PUB_PREFIX = Uint8Array.of(0xed, 0x01)
const DID_KEY_PREFIX = 'did:key:'

/** `did:key:z6Mk…` for a 32-byte Ed25519 public key */
export function publicKeyToDid (publicKey: Uint8Array): string {
  if (publicKey.byteLength !== 32) {
    throw new InvalidPublisherKeyError(`an Ed25519 public key has 32 bytes, got ${publicKey.byteLength}`)
  }
  const bytes = new Uint8Array(34)
  bytes.set(ED25519_PUB_PREFIX, 0)
  bytes.set(publicKey, 2)
  return DID_KEY_PREFIX + base58btc.encode(bytes)
}

// base58 decoding and the canonical re-encoding cost more than a signature check's setup: remember recent keys
const CACHE_SIZE = 4096
const cache = new Map<string, Uint8Array>()

/** The 32-byte Ed25519 public key a `did:key` names; rejects any other key type or a non-canonical spelling */
export function didToPublicKey (did: string): Uint8Array {
  const known = typeof did === 'string' ? cache.get(did) : undefined
  if (known != null) return Uint8Array.from(known)
  const key = parseDidKey(did)
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!)
  cache.set(did, key)
  return Uint8Array.from(key)
}

function parseDidKey (did: string): Uint8Array {
  if (typeof did !== 'string' || !did.startsWith(DID_KEY_PREFIX + 'z6Mk') || did.length > 64) {
    throw new InvalidPublisherKeyError(`expected a did:key of an Ed25519 key (did:key:z6Mk…), got ${JSON.stringify(String(did).slice(0, 80))}`)
  }
  let bytes: Uint8Array
  try {
    bytes = base58btc.decode(did.slice(DID_KEY_PREFIX.length))
  } catch {
    throw new InvalidPublisherKeyError(`${did} is not valid base58btc`)
  }
  if (bytes.byteLength !== 34 || bytes[0] !== 0xed || bytes[1] !== 0x01) {
    throw new InvalidPublisherKeyError(`${did} does not hold a 32-byte Ed25519 public key`)
  }
  const publicKey = bytes.slice(2)
  // base58 has no alternative spellings of the same bytes except leading-zero tricks; re-encode to be sure
  if (publicKeyToDid(publicKey) !== did) {
    throw new InvalidPublisherKeyError(`${did} is not in canonical form`)
  }
  return publicKey
}

/** true when `did` is a canonical did:key of an Ed25519 key */
export function isDidKey (did: unknown): did is string {
  if (typeof did !== 'string') return false
  try {
    didToPublicKey(did)
    return true
  } catch {
    return false
  }
}
