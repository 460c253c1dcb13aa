import { createPrivateKey, sign as cryptoSign } from 'node:crypto'
import * as dagCbor from '@ipld/dag-cbor'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { fromString } from 'uint8arrays/from-string'
import { toString as bytesToString } from 'uint8arrays/to-string'
import { createKeyStore } from '../keys/index.ts'
import { sign } from '../records/ed25519.ts'
import { verifyOrbitSignature } from './entry-signature.ts'
import { pinOnce } from './pins.ts'
import type { PublisherKey } from '../records/ed25519.ts'
import type { NodeHelia } from '@hubless/net'
import type { AbortOptions } from '@libp2p/interface'
import type { Identity } from '@orbitdb/core'

/**
 * The OrbitDB writer identity of a registry peer, with an Ed25519 key instead of OrbitDB's
 * default secp256k1 one. It is an ordinary `publickey` identity (id = public key, both identity
 * signatures by that key) that stock OrbitDB verifies as it is: @libp2p/crypto reads a 32-byte
 * raw key as Ed25519. What it buys: every peer checks an entry's signature through WebCrypto /
 * OpenSSL Ed25519 (~25,000/s here) instead of @noble/curves secp256k1 (~700/s here).
 */

/** the DER PKCS#8 prefix of a raw 32-byte Ed25519 seed */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex')
const enc = (bytes: Uint8Array): string => bytesToString(bytes, 'base16')
const utf8 = (data: string | Uint8Array): Uint8Array => typeof data === 'string' ? fromString(data) : data

export async function loadWriterIdentity (helia: NodeHelia, directory: string, options?: AbortOptions): Promise<Identity> {
  const store = createKeyStore({ directory, fileName: 'writer.key' })
  const key = await store.exists() ? await store.load(options) : await store.create(options)
  return identityForKey(helia, key, options)
}

/**
 * The OrbitDB identity of an Ed25519 key. A publisher's own identity lets the registry write a
 * publisher's records with the publisher's key, so that one signature check covers both the
 * entry and the record (see `publisherWroteEntry`).
 */
export async function identityForKey (helia: NodeHelia, key: PublisherKey, options?: AbortOptions): Promise<Identity> {
  const id = enc(key.publicKey)
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, key.secretKey]), format: 'der', type: 'pkcs8' })
  const publicKey = id
  const idSignature = enc(await sign(utf8(id), key))
  const signatures = { id: idSignature, publicKey: enc(await sign(utf8(publicKey + idSignature), key)) }
  const type = 'publickey'
  const bytes = dagCbor.encode({ id, publicKey, signatures, type })
  const cid = CID.createV1(dagCbor.code, await sha256.digest(bytes))
  // peers fetch the identity block by its hash to check entries that name it
  await helia.blockstore.put(cid, bytes, options)
  await pinOnce(helia.pins, cid, options)
  return {
    id,
    publicKey,
    signatures,
    type,
    hash: cid.toString(base58btc),
    bytes,
    // node:crypto signs in one synchronous call (~30 µs): no hop to libuv's threads per entry,
    // which a batch append (one chain of entries, each signed in turn) would wait for in series
    sign: async (_identity: Identity, data: string | Uint8Array) => enc(cryptoSign(null, utf8(data), privateKey)),
    verify: verifyOrbitSignature
  }
}
