import { createHash } from 'node:crypto'
import { open, stat } from 'node:fs/promises'
import { blockMatches } from './dag.ts'
import type { LeafGroup } from './leaf-assembler.ts'
import type { HasherLoader } from '@helia/interface'
import type { FileHandle } from 'node:fs/promises'

/** Bytes being written at once: the caller goes on (reading the seed, parsing an answer) while they are */
const IN_FLIGHT_BYTES = 16 * 1024 * 1024

/**
 * The file a fetch writes into, at any offset, without waiting for each write (up to
 * `IN_FLIGHT_BYTES` at a time). An existing file is kept (cut or grown to `size`): its leaves
 * are checked by {@link PartFile.holds} and kept when they hash right, which is how an
 * interrupted fetch resumes.
 */
export interface PartFile {
  /** whether the file was there before (from an interrupted fetch) */
  readonly existed: boolean
  write (bytes: Uint8Array, offset: number): Promise<void>
  /**
   * Starts flushing what is written so far to disk, without waiting: the flush of the seed's
   * bytes then runs while the network is waited for, and `finish` has less left to flush.
   */
  flushEarly (): void
  /** the leaf's bytes when the file already holds them at its first offset, verified */
  holds (group: LeafGroup, getHasher: HasherLoader): Promise<Uint8Array | undefined>
  /** waits for every write, flushes to disk and hashes the whole file (SHA-256, hex) */
  finish (onBytes?: (bytes: number) => void, signal?: AbortSignal): Promise<string>
  close (): Promise<void>
}

export async function openPartFile (path: string, size: number): Promise<PartFile> {
  const existed = await stat(path).then(s => s.isFile(), () => false)
  const file: FileHandle = await open(path, existed ? 'r+' : 'w+', 0o644)
  try {
    await file.truncate(size)
  } catch (err) {
    await file.close()
    throw err
  }
  const writing = new Set<Promise<void>>()
  let writingBytes = 0
  let failed: Error | undefined
  let flushing: Promise<void> | undefined

  async function settle (): Promise<void> {
    while (writing.size > 0) await Promise.race(writing)
    if (failed != null) throw failed
  }

  return {
    existed,
    async write (bytes, offset) {
      if (failed != null) throw failed
      writingBytes += bytes.byteLength
      const done: Promise<void> = file.write(bytes, 0, bytes.byteLength, offset)
        .then(() => {}, (err: Error) => { failed ??= err })
        .finally(() => {
          writingBytes -= bytes.byteLength
          writing.delete(done)
        })
      writing.add(done)
      while (writingBytes > IN_FLIGHT_BYTES && writing.size > 0) await Promise.race(writing)
      if (failed != null) throw failed
    },

    flushEarly () {
      if (flushing != null) return
      // after the writes issued so far, so that it flushes them
      flushing = Promise.allSettled(writing).then(async () => { await file.datasync() })
      flushing.catch(() => {})
    },

    async holds (group, getHasher) {
      if (!existed) return undefined
      const bytes = new Uint8Array(group.size)
      const { bytesRead } = await file.read(bytes, 0, group.size, group.offsets[0]!)
      if (bytesRead !== group.size) return undefined
      return await blockMatches(getHasher, group.cid, bytes) ? bytes : undefined
    },

    async finish (onBytes, signal) {
      await settle()
      await flushing
      // the flush to disk runs on the thread pool while the bytes, still in the page cache, are hashed
      const synced = file.sync()
      synced.catch(() => {})
      const hash = createHash('sha256')
      const buffer = new Uint8Array(4 * 1024 * 1024)
      let position = 0
      while (position < size) {
        signal?.throwIfAborted()
        const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.byteLength, size - position), position)
        if (bytesRead === 0) break
        hash.update(buffer.subarray(0, bytesRead))
        position += bytesRead
        onBytes?.(position)
      }
      await synced
      return hash.digest('hex')
    },

    async close () {
      await Promise.allSettled([...writing, flushing])
      await file.close()
    }
  }
}
