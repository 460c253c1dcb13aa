import { createHash } from 'node:crypto'
import { logger } from '@libp2p/logger'
import * as openpgp from 'openpgp'
import { CustomProgressEvent, type ProgressEvent } from 'progress-events'
import type { ElfSection } from './elf.ts'
import type { RandomAccessReader } from './reader.ts'
import type { AbortOptions } from './types.ts'

const log = logger('hubless:appimage:signature')
const READ_SIZE = 1024 * 1024

export type DigestProgressEvents = ProgressEvent<'appimage:digest', { read: number, total: number }>

export interface DigestOptions extends AbortOptions {
  onProgress?: (evt: DigestProgressEvents) => void
}

/** What the embedded signature says */
export interface SignatureStatus {
  /** a signature is embedded (`.sha256_sig` is not all zeros) */
  present: boolean
  /** a public key is embedded (`.sig_key`) */
  keyPresent: boolean
  /** fingerprint (hex, lowercase) of the embedded key */
  fingerprint?: string
  /** key ids (hex) the signature names as its issuer */
  signingKeyIds?: string[]
  /** the signature verifies with the embedded key over the file's digest */
  verified: boolean
  /** hex SHA-256 of the file with `.sha256_sig` and `.sig_key` zeroed: the data that was signed */
  digest?: string
  /** why verification failed, when a signature is present */
  reason?: string
}

/** Strips the NUL padding of a section; undefined when nothing remains */
export function sectionText (bytes: Uint8Array | undefined): string | undefined {
  if (bytes === undefined) return undefined
  let end = bytes.indexOf(0)
  if (end < 0) end = bytes.byteLength
  const text = new TextDecoder().decode(bytes.subarray(0, end)).trim()
  return text === '' ? undefined : text
}

/**
 * The hex digest AppImage signatures cover: SHA-256 (or another hash) of the whole file with the
 * given sections' bytes counted as zeros, so that embedding the signature does not change it.
 */
export async function digestWithZeroedSections (reader: RandomAccessReader, sections: ElfSection[], algorithm: 'sha256' | 'md5', options?: DigestOptions): Promise<string> {
  const hash = createHash(algorithm)
  for (let at = 0; at < reader.size; at += READ_SIZE) {
    options?.signal?.throwIfAborted()
    const length = Math.min(READ_SIZE, reader.size - at)
    let chunk = await reader.read(at, length, options)
    for (const s of sections) {
      const from = Math.max(s.offset, at)
      const to = Math.min(s.offset + s.size, at + length)
      if (from < to) {
        chunk = chunk.slice()
        chunk.fill(0, from - at, to - at)
      }
    }
    hash.update(chunk)
    options?.onProgress?.(new CustomProgressEvent('appimage:digest', { read: at + length, total: reader.size }))
  }
  return hash.digest('hex')
}

/** Section contents as ASCII armor (appimagetool's form) or, failing that, binary OpenPGP packets */
function armoredOrBinary (bytes: Uint8Array): { armored: string } | { binary: Uint8Array } {
  const text = sectionText(bytes)
  if (text?.startsWith('-----BEGIN PGP') === true) return { armored: text }
  let end = bytes.length
  while (end > 0 && bytes[end - 1] === 0) end--
  return { binary: bytes.subarray(0, end) }
}

async function readSignature (bytes: Uint8Array): Promise<openpgp.Signature> {
  const data = armoredOrBinary(bytes)
  return 'armored' in data ? await openpgp.readSignature({ armoredSignature: data.armored }) : await openpgp.readSignature({ binarySignature: data.binary })
}

async function readKey (bytes: Uint8Array): Promise<openpgp.Key> {
  const data = armoredOrBinary(bytes)
  return 'armored' in data ? await openpgp.readKey({ armoredKey: data.armored }) : await openpgp.readKey({ binaryKey: data.binary })
}

function isEmpty (bytes: Uint8Array | undefined): boolean {
  return bytes === undefined || bytes.every(b => b === 0)
}

export interface EmbeddedSignature {
  reader: RandomAccessReader
  signatureSection?: ElfSection
  keySection?: ElfSection
}

/** Checks the embedded OpenPGP signature against the embedded key */
export async function verifyEmbeddedSignature (input: EmbeddedSignature, options?: DigestOptions): Promise<SignatureStatus> {
  const { reader, signatureSection, keySection } = input
  const sigBytes = signatureSection !== undefined && signatureSection.size > 0 ? await reader.read(signatureSection.offset, signatureSection.size, options) : undefined
  const keyBytes = keySection !== undefined && keySection.size > 0 ? await reader.read(keySection.offset, keySection.size, options) : undefined
  const status: SignatureStatus = { present: !isEmpty(sigBytes), keyPresent: !isEmpty(keyBytes), verified: false }
  let key: openpgp.Key | undefined
  if (status.keyPresent) {
    try {
      key = await readKey(keyBytes!)
      status.fingerprint = key.getFingerprint()
    } catch (err) {
      status.reason = `the embedded key (.sig_key) is not an OpenPGP public key: ${(err as Error).message}`
    }
  }
  if (!status.present) {
    return status
  }
  let signature: openpgp.Signature
  try {
    signature = await readSignature(sigBytes!)
    status.signingKeyIds = Array.from(signature.getSigningKeyIDs(), id => id.toHex())
  } catch (err) {
    status.reason = `the embedded signature (.sha256_sig) is not an OpenPGP signature: ${(err as Error).message}`
    return status
  }
  status.digest = await digestWithZeroedSections(reader, [signatureSection, keySection].filter((s): s is ElfSection => s !== undefined), 'sha256', options)
  if (key === undefined) {
    status.reason ??= 'the AppImage carries no key (.sig_key) to verify its signature with'
    return status
  }
  try {
    const message = await openpgp.createMessage({ binary: new TextEncoder().encode(status.digest) })
    const result = await openpgp.verify({ message, signature, verificationKeys: key, format: 'binary' })
    for (const s of result.signatures) {
      await s.verified
    }
    status.verified = result.signatures.length > 0
    if (!status.verified) status.reason = 'the signature holds no signature packets'
  } catch (err) {
    log('signature does not verify: %s', (err as Error).message)
    status.reason = `the signature does not verify with the embedded key: ${(err as Error).message}`
  }
  return status
}
