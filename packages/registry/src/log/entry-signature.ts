import * as dagCbor from '@ipld/dag-cbor'
import { Entry } from '@orbitdb/core'
import { fromString } from 'uint8arrays/from-string'
import { verify } from '../records/ed25519.ts'
import type { VerifySignature } from '../records/signed.ts'
import type { LogEntry } from '@orbitdb/core'

/**
 * OrbitDB's signature check (key-store.js `verifySignature`) for any key type: 32-byte keys are
 * Ed25519, checked here through WebCrypto (OpenSSL, as @libp2p/crypto does in Node), anything
 * else goes to @libp2p/crypto as in OrbitDB. Every identity the registry hands to OrbitDB uses
 * this as its `verify`, because OrbitDB's join checks every entry with the *log's* identity's
 * `verify`: an Ed25519-only one would refuse stock secp256k1 writers that other peers accept.
 */
export async function verifyOrbitSignature (signature: string, key: string, data: string | Uint8Array): Promise<boolean> {
  if (typeof signature !== 'string' || typeof key !== 'string' || signature === '' || key === '') return false
  if (key.length !== 64) return verifyOther(signature, key, data)
  try {
    return await verify(fromString(signature, 'base16'), typeof data === 'string' ? fromString(data) : data, fromString(key, 'base16'))
  } catch {
    return false
  }
}

/**
 * The signature check OrbitDB's `Entry.verify` makes, with Ed25519 writer keys checked through
 * WebCrypto (or `verifyFn`, a caller's batch). `signedBytes`, when given, must be what
 * re-encoding the entry's signed fields gives (entry-bytes.ts takes them from the entry's bytes).
 */
export async function entrySignatureValid (entry: LogEntry, verifyFn: VerifySignature = verify, signedBytes?: Uint8Array): Promise<boolean> {
  if (typeof entry.key !== 'string' || typeof entry.sig !== 'string') return false
  if (entry.key.length !== 64) {
    // another key type (OrbitDB's default secp256k1 writers): OrbitDB's own check
    return Entry.verify({ verify: async (sig, key, data) => verifyOther(sig, key, data) }, entry)
  }
  try {
    const bytes = signedBytes ?? dagCbor.encode({ id: entry.id, payload: entry.payload, next: entry.next, refs: entry.refs, clock: entry.clock, v: entry.v })
    return await verifyFn(fromString(entry.sig, 'base16'), bytes, fromString(entry.key, 'base16'))
  } catch {
    return false
  }
}

let verifyOtherImpl: ((sig: string, key: string, data: string | Uint8Array) => Promise<boolean>) | undefined
async function verifyOther (sig: string, key: string, data: string | Uint8Array): Promise<boolean> {
  verifyOtherImpl ??= async (s, k, d) => {
    const { publicKeyFromRaw } = await import('@libp2p/crypto/keys')
    try {
      return await publicKeyFromRaw(fromString(k, 'base16')).verify(typeof d === 'string' ? fromString(d) : d, fromString(s, 'base16'))
    } catch {
      return false
    }
  }
  return verifyOtherImpl(sig, key, data)
}

