import type { AbortOptions } from '@libp2p/interface'
import type { PublisherKey } from '../records/ed25519.ts'
import { keyStore } from './key-store.ts'

export interface KeyStoreInit {
  /** the data dir; the key is `<directory>/publisher.key`, mode 0600 */
  directory: string
  /** default `publisher.key` */
  fileName?: string
}

export interface KeyReadOptions extends AbortOptions {
  /** needed when the key file is encrypted */
  passphrase?: string
}

export interface KeyWriteOptions extends AbortOptions {
  /** encrypt the key at rest (scrypt + AES-256-GCM) */
  passphrase?: string
  /** replace an existing key file; default false (KeyExistsError) */
  overwrite?: boolean
}

export interface KeyExportOptions extends KeyReadOptions {
  /** seal the exported text with this passphrase (default: plain) */
  exportPassphrase?: string
}

export interface KeyImportOptions extends KeyWriteOptions {
  /** the passphrase the imported text is sealed with */
  importPassphrase?: string
}

/** The publisher key file in a data dir */
export interface KeyStore {
  readonly path: string
  exists (): Promise<boolean>
  /** make and save a new key; KeyExistsError if one exists and `overwrite` is not set */
  create (options?: KeyWriteOptions): Promise<PublisherKey>
  save (key: PublisherKey, options?: KeyWriteOptions): Promise<void>
  /** KeyNotFoundError, KeyFileError, WrongPassphraseError */
  load (options?: KeyReadOptions): Promise<PublisherKey>
  isEncrypted (options?: AbortOptions): Promise<boolean>
  /** the key as portable JSON text, for `hubless key export` */
  export (options?: KeyExportOptions): Promise<string>
  /** read exported text and save it as this data dir's key */
  import (text: string, options?: KeyImportOptions): Promise<PublisherKey>
  remove (options?: AbortOptions): Promise<void>
}

export function createKeyStore (init: KeyStoreInit): KeyStore {
  return keyStore(init)
}

export { deserializeKey, serializeKey } from './key-file.ts'
