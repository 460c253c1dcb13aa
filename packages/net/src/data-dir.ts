import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { LevelBlockstore } from 'blockstore-level'
import { LevelDatastore } from 'datastore-level'
import { createBlockFiles } from './block-files.ts'
import { CorruptDataDirError, DataDirLockedError } from './errors.ts'
import { loadOrCreatePrivateKey } from './private-key.ts'
import { createTieredBlockstore } from './tiered-blockstore.ts'
import type { TieredBlockstore } from './tiered-blockstore.ts'
import type { PrivateKey } from '@libp2p/interface'

const log = logger('hubless:net:data-dir')

export interface DataDir {
  directory: string
  privateKey: PrivateKey
  /** small blocks in LevelDB (`blocks/`), large ones as files (`block-files/`) */
  blockstore: TieredBlockstore
  datastore: LevelDatastore
  close: () => Promise<void>
}

interface LevelLike {
  open: (options: { createIfMissing: boolean, compression: boolean, maxOpenFiles: number }) => Promise<void>
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

/**
 * Table files LevelDB keeps open (its default is 1,000). It maps each open table into memory, and
 * every page read (by a lookup or a compaction) stays in the process's RSS while the table is open:
 * a peer taking in a million records (~2 GB of tables) peaked at 1,540 MB RSS with the default and
 * at 833 MB with 100, and caught up faster (3,650 against 3,400 records/s), measured in
 * scripts/bench/registry-scale.ts. The registry's index opens its LevelDB with this number too.
 * 30 took 78 MB off a million-record mirror's RSS after its catch-up (pages of table files, which
 * the kernel takes back when it needs them) and caught up 7% slower (mirror-scale, one run each,
 * one after the other): not worth the CPU.
 */
export const LEVEL_OPEN_FILES = 100

async function openLevel (db: LevelLike, path: string): Promise<void> {
  try {
    // opened here, not lazily by the first read, so that a held lock is reported at start
    await db.open({ createIfMissing: true, compression: false, maxOpenFiles: LEVEL_OPEN_FILES })
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

/** Opens (creating when missing) the node key, blockstore and datastore under one directory. */
export async function openDataDir (directory: string): Promise<DataDir> {
  await mkdir(directory, { recursive: true, mode: 0o700 })
  const privateKey = await loadOrCreatePrivateKey(directory)
  const blocksPath = join(directory, 'blocks')
  const datastorePath = join(directory, 'datastore')
  const files = createBlockFiles(join(directory, 'block-files'))
  await files.open()
  const level = new LevelBlockstore(blocksPath)
  const datastore = new LevelDatastore(datastorePath)
  // LevelDB's default memtable (4 MiB): large blocks are files, what LevelDB holds is small
  await openLevel(level.db, blocksPath)
  try {
    await openLevel(datastore.db, datastorePath)
  } catch (err) {
    await level.close()
    throw err
  }
  const blockstore = createTieredBlockstore({ level, files })
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
