import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto'
import { fromString } from 'uint8arrays/from-string'
import { toString as bytesToString } from 'uint8arrays/to-string'
import { KeyFileError, WrongPassphraseError } from '../errors.ts'
import type { InvalidPublisherKeyError } from '../errors.ts'
import { publisherKeyFromSecret } from '../records/ed25519.ts'
import type { PublisherKey } from '../records/ed25519.ts'

/**
 * The text form of a publisher key, for the key file and for export/import: JSON naming the key
 * by its did:key and holding its 32-byte seed, either plain or sealed with AES-256-GCM under a
 * key derived from a passphrase by scrypt (node:crypto; no extra dependency).
 */

const TYPE = 'hubless-publisher-key'
const SCRYPT = { N: 2 ** 15, r: 8, p: 1 } as const

interface PlainKeyFile { type: typeof TYPE, version: 1, did: string, secretKey: string }
interface SealedKeyFile {
  type: typeof TYPE
  version: 1
  did: string
  kdf: { name: 'scrypt', N: number, r: number, p: number, salt: string }
  cipher: { name: 'aes-256-gcm', iv: string, tag: string, data: string }
}

const b64 = (bytes: Uint8Array): string => bytesToString(bytes, 'base64url')

function unb64 (value: unknown, what: string): Uint8Array {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]*$/.test(value)) throw new KeyFileError(`${what} is not base64url`)
  return fromString(value, 'base64url')
}

async function deriveKey (passphrase: string, salt: Uint8Array, params: { N: number, r: number, p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(passphrase.normalize('NFC'), salt, 32, { ...params, maxmem: 256 * params.N * params.r + 1024 * 1024 }, (err, key) => {
      if (err != null) reject(new KeyFileError(`cannot derive the key from the passphrase: ${err.message}`))
      else resolve(key)
    })
  })
}

/** The key as JSON text; sealed with `passphrase` when one is given */
export async function serializeKey (key: PublisherKey, passphrase?: string): Promise<string> {
  if (passphrase == null || passphrase === '') {
    const plain: PlainKeyFile = { type: TYPE, version: 1, did: key.did, secretKey: b64(key.secretKey) }
    return JSON.stringify(plain, null, 2) + '\n'
  }
  const salt = randomBytes(16)
  const iv = randomBytes(12)
  const aesKey = await deriveKey(passphrase, salt, SCRYPT)
  const cipher = createCipheriv('aes-256-gcm', aesKey, iv)
  // the did is authenticated data, so a sealed file cannot be relabelled with another key's name
  cipher.setAAD(Buffer.from(key.did))
  const data = Buffer.concat([cipher.update(key.secretKey), cipher.final()])
  const sealed: SealedKeyFile = {
    type: TYPE,
    version: 1,
    did: key.did,
    kdf: { name: 'scrypt', ...SCRYPT, salt: b64(salt) },
    cipher: { name: 'aes-256-gcm', iv: b64(iv), tag: b64(cipher.getAuthTag()), data: b64(data) }
  }
  return JSON.stringify(sealed, null, 2) + '\n'
}

/** true when the key text is sealed and needs a passphrase */
export function isSealed (text: string): boolean {
  return (parse(text) as Partial<SealedKeyFile>).cipher != null
}

function parse (text: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new KeyFileError('the key is not JSON: expected a hubless publisher key (as written by `hubless key export`)')
  }
  if (typeof value !== 'object' || value === null || (value as { type?: unknown }).type !== TYPE || (value as { version?: unknown }).version !== 1) {
    throw new KeyFileError(`the file is not a version 1 ${TYPE}`)
  }
  return value as Record<string, unknown>
}

/** Read key text; a sealed key needs its passphrase */
export async function deserializeKey (text: string, passphrase?: string): Promise<PublisherKey> {
  const file = parse(text)
  let secret: Uint8Array
  if (file.cipher != null) {
    const { kdf, cipher } = file as unknown as SealedKeyFile
    if (kdf?.name !== 'scrypt' || cipher?.name !== 'aes-256-gcm' || ![kdf.N, kdf.r, kdf.p].every(n => Number.isSafeInteger(n) && n > 0) || kdf.N > 2 ** 20 || kdf.r > 32 || kdf.p > 16) {
      throw new KeyFileError('unsupported key encryption: expected scrypt (N <= 2^20) and aes-256-gcm')
    }
    if (passphrase == null || passphrase === '') throw new WrongPassphraseError('this key is encrypted: give its passphrase')
    const aesKey = await deriveKey(passphrase, unb64(kdf.salt, 'kdf.salt'), kdf)
    try {
      const decipher = createDecipheriv('aes-256-gcm', aesKey, unb64(cipher.iv, 'cipher.iv'))
      decipher.setAAD(Buffer.from(String(file.did)))
      decipher.setAuthTag(unb64(cipher.tag, 'cipher.tag'))
      secret = new Uint8Array(Buffer.concat([decipher.update(unb64(cipher.data, 'cipher.data')), decipher.final()]))
    } catch {
      throw new WrongPassphraseError('the passphrase does not open this key (or the file was altered)')
    }
  } else {
    secret = unb64(file.secretKey, 'secretKey')
  }
  let key: PublisherKey
  try {
    key = publisherKeyFromSecret(secret)
  } catch (err) {
    throw new KeyFileError(`the key file holds no valid Ed25519 seed: ${(err as InvalidPublisherKeyError).message}`)
  }
  if (key.did !== file.did) {
    throw new KeyFileError(`the key file names ${String(file.did).slice(0, 80)} but holds the key of ${key.did}`)
  }
  return key
}
