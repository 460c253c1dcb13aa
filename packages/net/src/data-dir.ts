import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { LevelBlockstore } from 'blockstore-level'
import { LevelDatastore } from 'datastore-level'
import { CorruptDataDirError, DataDirLockedError } from './errors.ts'
import { loadOrCreatePrivateKey } from './private-key.ts'
import type { PrivateKey } from '@libp2p/interface'

const log = logger('hubless:net:data-dir')

export interface DataDir {
  directory: string
  privateKey: PrivateKey
  blockstore: LevelBlockstore
  datastore: LevelDatastore
  close: () => Promise<void>
}

interface LevelLike {
  open: (options: { createIfMissing: boolean, compression: boolean, writeBufferSize?: number }) => Promise<void>
  close: () => Promise<void>
}

interface LevelErrorShape {
  code?: string
  cause?: LevelErrorShape
  message?: string
}

function levelCodes (err: unknown): string[] {
  const codes: string[] = []
  let current = err as LevelErrorShape | undefined
  for (let depth = 0; current != null && depth < 5; depth++) {
    if (typeof current.code === 'string') codes.push(current.code)
    current = current.cause
  }
  return codes
}

async function openLevel (db: LevelLike, path: string, writeBufferSize?: number): Promise<void> {
  try {
    // opened here, not lazily by the first read, so that a held lock is reported at start
    await db.open({ createIfMissing: true, compression: false, writeBufferSize })
  } catch (err) {
    const codes = levelCodes(err)
    if (codes.includes('LEVEL_LOCKED')) {
      throw new DataDirLockedError(`The database ${path} is in use by another hubless process (LevelDB lock held). Stop that process, or talk to it through its API, or use another --data-dir.`)
    }
    if (codes.includes('LEVEL_CORRUPTION')) {
      throw new CorruptDataDirError(`The database ${path} is corrupt. Restore the data directory from a backup or remove ${path}.`)
    }
    throw new CorruptDataDirError(`Cannot open the database ${path}: ${(err as Error).message} (${codes.join(', ')}).`)
  }
}

/**
 * LevelDB's memtable for the blockstore (default 4 MiB): blocks are up to 1 MiB, and with 4 MiB
 * every few blocks become a level-0 file to compact, which halved the throughput of adding a file
 * (scripts/bench/add-throughput.ts). Up to two memtables are held, so this costs up to 64 MiB.
 */
const BLOCKS_WRITE_BUFFER = 32 * 1024 * 1024

/** Opens (creating when missing) the node key, blockstore and datastore under one directory. */
export async function openDataDir (directory: string): Promise<DataDir> {
  await mkdir(directory, { recursive: true, mode: 0o700 })
  const privateKey = await loadOrCreatePrivateKey(directory)
  const blocksPath = join(directory, 'blocks')
  const datastorePath = join(directory, 'datastore')
  const blockstore = new LevelBlockstore(blocksPath)
  const datastore = new LevelDatastore(datastorePath)
  await openLevel(blockstore.db, blocksPath, BLOCKS_WRITE_BUFFER)
  try {
    await openLevel(datastore.db, datastorePath)
  } catch (err) {
    await blockstore.close()
    throw err
  }
  log('opened %s', directory)
  let closed = false
  return {
    directory,
    privateKey,
    blockstore,
    datastore,
    close: async () => {
      if (closed) return
      closed = true
      await Promise.allSettled([blockstore.close(), datastore.close()])
      log('closed %s', directory)
    }
  }
}
