import { chmod, mkdir, open, readFile, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { logger } from '@libp2p/logger'
import { CorruptDataDirError } from './errors.ts'
import type { PrivateKey } from '@libp2p/interface'

const log = logger('hubless:net:private-key')

export const KEY_FILE = 'peer.key'

/**
 * The key lives in a file of its own (protobuf, mode 0600) rather than in the libp2p keychain so
 * that `hubless init` and backups can see and copy it without opening the databases.
 */
export async function loadOrCreatePrivateKey (directory: string): Promise<PrivateKey> {
  const path = join(directory, KEY_FILE)
  let bytes: Uint8Array | undefined
  try {
    bytes = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new CorruptDataDirError(`Cannot read the node key ${path}: ${(err as Error).message}. Check its permissions.`)
    }
  }
  if (bytes != null) {
    try {
      return privateKeyFromProtobuf(bytes)
    } catch (err) {
      throw new CorruptDataDirError(`The node key ${path} is not a valid libp2p private key (${(err as Error).message}). Restore it from a backup or move it away to create a new identity.`)
    }
  }
  await mkdir(directory, { recursive: true, mode: 0o700 })
  const key = await generateKeyPair('Ed25519')
  // write then rename, so a crash never leaves a half-written key that would fail every later start
  const temp = `${path}.${process.pid}.tmp`
  const handle = await open(temp, 'wx', 0o600)
  try {
    await handle.writeFile(privateKeyToProtobuf(key))
    await handle.sync()
  } finally {
    await handle.close()
  }
  await chmod(temp, 0o600)
  await rename(temp, path)
  log('created a new node key in %s', path)
  return key
}
