import { LEVEL_OPEN_FILES } from '@hubless/net'
import { ComposedStorage, LevelStorage, LRUStorage } from '@orbitdb/core'
import { Level } from 'level'
import { headsStorage } from './batch-append.ts'
import type { RecordDb } from './record-store.ts'
import type { RegistryNode } from '../index.ts'
import type { Storage } from '@orbitdb/core'
import type { CID } from 'multiformats/cid'

const INDEX_WRITE_BUFFER = 16 * 1024 * 1024

/** The log's index: OrbitDB's LevelStorage, plus writing many keys in one batch */
export interface IndexStorage extends Storage {
  merge (other: Storage): Promise<void>
  clear (): Promise<void>
  /** `value` under every key, in one LevelDB batch (a snapshot indexes thousands of entries at once) */
  putMany (keys: string[], value: unknown): Promise<void>
  /** the record index's keys (record-store.ts), a sublevel of the same LevelDB */
  records: RecordDb
  /** the record index's frames, in a LevelDB of their own (record-store.ts says why) */
  frames: RecordDb
}

/** The record index's sublevel of a LevelDB, as the record index uses it */
function recordDb (level: Level<string, unknown>): RecordDb {
  const db = level.sublevel<string, Uint8Array>('records', { keyEncoding: 'utf8', valueEncoding: 'view' })
  return {
    get: async key => db.get(key),
    getMany: async keys => db.getMany(keys),
    batch: async ops => { await db.batch(ops) },
    iterator: options => db.iterator(options),
    keys: options => db.keys(options),
    clear: async () => { await db.clear() }
  }
}

/**
 * The same database OrbitDB's `LevelStorage` (storage/level.js) opens for a log's index, with
 * the same encoding and the same answers (`get` of a missing key is `undefined`), so that
 * OrbitDB reads what the registry wrote and the other way round; and the record index's frames
 * at `framesPath`.
 */
export async function openIndexStorage (path: string, framesPath: string): Promise<IndexStorage> {
  // the record index writes ~1.3 KB an entry here: a 16 MiB memtable (LevelDB's default is 4) turns a
  // snapshot's writes into a quarter of the level-0 files (100,000 entries: 21 -> 17 µs of CPU an entry, measured);
  // as few table files open as the node's own LevelDBs, each mapped into memory while open
  const db = new Level<string, unknown>(path, { valueEncoding: 'view', writeBufferSize: INDEX_WRITE_BUFFER, maxOpenFiles: LEVEL_OPEN_FILES })
  await db.open()
  // LevelDB's own 4 MiB memtable for the frames: their tables are moved down the levels, not
  // rewritten, so more level-0 files cost nothing, and an open replays what a memtable held (with
  // 16 MiB, reopening 100,000 records and answering a first query took 274 ms instead of 117)
  const frames = new Level<string, unknown>(framesPath, { valueEncoding: 'view', maxOpenFiles: LEVEL_OPEN_FILES })
  try {
    await frames.open()
  } catch (err) {
    await db.close()
    throw err
  }
  return {
    records: recordDb(db),
    frames: recordDb(frames),
    put: async (key, value) => { await db.put(key, value) },
    get: async key => {
      try {
        const value = await db.get(key)
        // as OrbitDB's: anything falsy is no value
        return value ? value : undefined
      } catch {
        return undefined
      }
    },
    del: async key => { await db.del(key) },
    iterator: async function * (options = {}) {
      for await (const [key, value] of db.iterator({ limit: options.amount ?? -1, reverse: options.reverse ?? false })) yield [key, value]
    },
    merge: async () => {},
    // the record index goes with the log's index: its keys are a sublevel, its frames beside it
    clear: async () => { await db.clear(); await frames.clear() },
    close: async () => { await db.close(); await frames.close() },
    putMany: async (keys, value) => {
      if (keys.length > 0) await db.batch(keys.map(key => ({ type: 'put' as const, key, value })))
    }
  }
}

/** OrbitDB's path join (utils/path-join.js), to find the directories it uses */
function orbitPathJoin (...paths: string[]): string {
  return paths.join('/').replace(/((?<=\/)\/+)|(^\.\/)|((?<=\/)\.\/)/g, '') || '.'
}

export interface LogStorage {
  /** the log's index, held here so that the registry can write it in batches */
  index: IndexStorage
  /** what OrbitDB reads: an LRU in front of `index` (an entry taken out must leave both) */
  indexStorage: Storage
  /** OrbitDB's heads, behind the filter a batch append needs (see batch-append.ts) */
  headsStorage: Storage
}

/** The index and heads OrbitDB would open for the log at `address` under `directory`, held by the registry */
export async function openLogStorage (directory: string, address: string, coveredHeads: Set<string>): Promise<LogStorage> {
  const logDirectory = orbitPathJoin(directory, `./${address}/`)
  const index = await openIndexStorage(orbitPathJoin(logDirectory, '/log/_index/'), orbitPathJoin(logDirectory, '/log/_frames/'))
  const indexStorage = await ComposedStorage(await LRUStorage({ size: 1000 }), index)
  const heads = await ComposedStorage(await LRUStorage({ size: 1000 }), await LevelStorage({ path: orbitPathJoin(logDirectory, '/log/_heads/') }))
  return { index, indexStorage, headsStorage: headsStorage(heads, coveredHeads) }
}

/** Store blocks in one LevelDB batch (@hubless/net's `putBlocks`, without Helia's has + bitswap announcement per block), else through Helia's `putMany` */
export function blockWriter (node: Pick<RegistryNode, 'helia' | 'content'>): (blocks: Array<{ cid: CID, bytes: Uint8Array }>) => Promise<void> {
  return async blocks => {
    if (node.content != null) {
      await node.content.putBlocks(blocks)
      return
    }
    for await (const _ of node.helia.blockstore.putMany(blocks)) { /* drain */ }
  }
}
