import { chmod, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { KeyExistsError, KeyFileError, KeyNotFoundError } from '../errors.ts'
import { createPublisherKey } from '../records/ed25519.ts'
import type { PublisherKey } from '../records/ed25519.ts'
import { deserializeKey, isSealed, serializeKey } from './key-file.ts'
import type { KeyStore, KeyStoreInit, KeyWriteOptions, KeyReadOptions } from './index.ts'
import type { AbortOptions } from '@libp2p/interface'

const log = logger('hubless:registry:keys')

export const KEY_FILE = 'publisher.key'

function aborted (options?: AbortOptions): void {
  options?.signal?.throwIfAborted()
}

/** Write a file with mode 0600 atomically: a crash leaves the old key or the new one, never half of one */
async function writePrivate (path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`
  const fh = await open(tmp, 'wx', 0o600)
  try {
    await fh.writeFile(text)
    await fh.sync()
  } finally {
    await fh.close()
  }
  await chmod(tmp, 0o600)
  await rename(tmp, path)
}

export function keyStore (init: KeyStoreInit): KeyStore {
  const path = join(init.directory, init.fileName ?? KEY_FILE)

  async function exists (): Promise<boolean> {
    try {
      await stat(path)
      return true
    } catch {
      return false
    }
  }

  async function save (key: PublisherKey, options: KeyWriteOptions = {}): Promise<void> {
    aborted(options)
    await mkdir(init.directory, { recursive: true, mode: 0o700 })
    if (options.overwrite !== true && await exists()) {
      throw new KeyExistsError(`a publisher key already exists at ${path}; export it first, then overwrite explicitly`)
    }
    const text = await serializeKey(key, options.passphrase)
    aborted(options)
    await writePrivate(path, text)
    log('saved %s to %s (sealed: %s)', key.did, path, options.passphrase != null && options.passphrase !== '')
  }

  async function readText (options?: KeyReadOptions): Promise<string> {
    aborted(options)
    try {
      return await readFile(path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new KeyNotFoundError(`no publisher key at ${path}: create one (hubless init) or import one`)
      }
      throw new KeyFileError(`cannot read ${path}: ${(err as Error).message}`)
    }
  }

  return {
    path,
    exists,
    save,
    async create (options = {}) {
      const key = createPublisherKey()
      await save(key, options)
      return key
    },
    async load (options = {}) {
      return deserializeKey(await readText(options), options.passphrase)
    },
    async isEncrypted (options = {}) {
      return isSealed(await readText(options))
    },
    async export (options = {}) {
      const key = await deserializeKey(await readText(options), options.passphrase)
      return serializeKey(key, options.exportPassphrase)
    },
    async import (text, options = {}) {
      const key = await deserializeKey(text, options.importPassphrase)
      await save(key, options)
      return key
    },
    async remove (options = {}) {
      aborted(options)
      await rm(path, { force: true })
    }
  }
}
