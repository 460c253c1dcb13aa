import { createHash } from 'node:crypto'
import { open, stat } from 'node:fs/promises'
import { blockMatches } from './dag.ts'
import type { LeafGroup } from './leaf-assembler.ts'
import type { HasherLoader } from '@helia/interface'
import type { FileHandle } from 'node:fs/promises'

/** Bytes being written at once: the caller goes on (reading the seed, parsing an answer) while they are */
const IN_FLIGHT_BYTES = 16 * 1024 * 1024
/**
 * Writes that continue one another are gathered into one `writev` of up to this many bytes (and
 * {@link GATHERED_PARTS} parts): leaves copied from the seed mostly land next to each other, and
 * a write each cost ~30 µs on the main thread, the most of an update's CPU after hashing
 */
const GATHERED_BYTES = 4 * 1024 * 1024
const GATHERED_PARTS = 256

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

  /** writes that continue one another, not yet issued */
  let gathered: Uint8Array[] = []
  let gatheredAt = 0
  let gatheredBytes = 0

  function issue (): void {
    if (gathered.length === 0) return
    const parts = gathered
    const bytes = gatheredBytes
    const at = gatheredAt
    gathered = []
    gatheredBytes = 0
    const done: Promise<void> = file.writev(parts, at)
      .then(({ bytesWritten }) => {
        // writev may write less than asked (as write may): the rest is written the plain way
        if (bytesWritten < bytes) return writeAll(Buffer.concat(parts).subarray(bytesWritten), at + bytesWritten)
      })
      .then(() => {}, (err: Error) => { failed ??= err })
      .finally(() => {
        writingBytes -= bytes
        writing.delete(done)
      })
    writing.add(done)
  }

  async function writeAll (bytes: Uint8Array, at: number): Promise<void> {
    let written = 0
    while (written < bytes.byteLength) {
      const { bytesWritten } = await file.write(bytes, written, bytes.byteLength - written, at + written)
      written += bytesWritten
    }
  }

  async function settle (): Promise<void> {
    issue()
    while (writing.size > 0) await Promise.race(writing)
    if (failed != null) throw failed
  }

  return {
    existed,
    async write (bytes, offset) {
      if (failed != null) throw failed
      if (gathered.length > 0 && (offset !== gatheredAt + gatheredBytes || gatheredBytes + bytes.byteLength > GATHERED_BYTES || gathered.length >= GATHERED_PARTS)) issue()
      if (gathered.length === 0) gatheredAt = offset
      gathered.push(bytes)
      gatheredBytes += bytes.byteLength
      writingBytes += bytes.byteLength
      if (gatheredBytes >= GATHERED_BYTES) issue()
      while (writingBytes > IN_FLIGHT_BYTES && writing.size > 0) {
        issue()
        await Promise.race(writing)
      }
      if (failed != null) throw failed
    },

    flushEarly () {
      if (flushing != null) return
      issue()
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
      // what was gathered is written: a fetch cut short resumes from the part file
      issue()
      await Promise.allSettled([...writing, flushing])
      await file.close()
    }
  }
}
