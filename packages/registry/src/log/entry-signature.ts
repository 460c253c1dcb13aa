import * as dagCbor from '@ipld/dag-cbor'
import { Entry } from '@orbitdb/core'
import { fromString } from 'uint8arrays/from-string'
import { verify } from '../records/ed25519.ts'
import type { LogEntry } from '@orbitdb/core'

/** The signature check OrbitDB's `Entry.verify` makes, with Ed25519 writer keys checked through WebCrypto */
export async function entrySignatureValid (entry: LogEntry): Promise<boolean> {
  if (typeof entry.key !== 'string' || typeof entry.sig !== 'string') return false
  if (entry.key.length !== 64) {
    // another key type (OrbitDB's default secp256k1 writers): OrbitDB's own check
    return Entry.verify({ verify: async (sig, key, data) => verifyOther(sig, key, data) }, entry)
  }
  try {
    const bytes = dagCbor.encode({ id: entry.id, payload: entry.payload, next: entry.next, refs: entry.refs, clock: entry.clock, v: entry.v })
    return await verify(fromString(entry.sig, 'base16'), bytes, fromString(entry.key, 'base16'))
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

