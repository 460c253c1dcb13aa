import { Level } from 'level'
import type { Storage } from '@orbitdb/core'

/** The log's index: OrbitDB's LevelStorage, plus writing many keys in one batch */
export interface IndexStorage extends Storage {
  merge (other: Storage): Promise<void>
  clear (): Promise<void>
  /** `value` under every key, in one LevelDB batch (a snapshot indexes thousands of entries at once) */
  putMany (keys: string[], value: unknown): Promise<void>
}

/**
 * The same database OrbitDB's `LevelStorage` (storage/level.js) opens for a log's index, with
 * the same encoding and the same answers (`get` of a missing key is `undefined`), so that
 * OrbitDB reads what the registry wrote and the other way round.
 */
export async function openIndexStorage (path: string): Promise<IndexStorage> {
  const db = new Level<string, unknown>(path, { valueEncoding: 'view' })
  await db.open()
  return {
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
    clear: async () => { await db.clear() },
    close: async () => { await db.close() },
    putMany: async (keys, value) => {
      if (keys.length > 0) await db.batch(keys.map(key => ({ type: 'put' as const, key, value })))
    }
  }
}
