import { open } from 'node:fs/promises'
import { TruncatedFileError } from './errors.ts'
import type { AbortOptions } from './types.ts'

/**
 * Random access to the bytes of a file. Every structure of an AppImage is found through
 * offsets, so the reader never has to hold the whole file.
 */
export interface RandomAccessReader {
  /** total size in bytes */
  readonly size: number
  /** exactly `length` bytes from `offset`; throws TruncatedFileError past the end */
  read (offset: number, length: number, options?: AbortOptions): Promise<Uint8Array>
  /** releases the file handle (a no-op for in-memory readers) */
  close (): Promise<void>
}

function checkRange (size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new TruncatedFileError(`cannot read ${length} bytes at offset ${offset}: not a valid range`)
  }
  if (offset + length > size) {
    throw new TruncatedFileError(`cannot read ${length} bytes at offset ${offset}: the file has only ${size} bytes; is it truncated?`)
  }
}

/** A reader over bytes already in memory */
export function createBytesReader (bytes: Uint8Array): RandomAccessReader {
  return {
    size: bytes.byteLength,
    async read (offset, length, options) {
      options?.signal?.throwIfAborted()
      checkRange(bytes.byteLength, offset, length)
      return bytes.subarray(offset, offset + length)
    },
    async close () {}
  }
}

/** A reader over a file on disk, through one `node:fs/promises` file handle */
export async function createFileReader (path: string, options?: AbortOptions): Promise<RandomAccessReader> {
  options?.signal?.throwIfAborted()
  const handle = await open(path, 'r')
  let size: number
  try {
    size = (await handle.stat()).size
  } catch (err) {
    await handle.close()
    throw err
  }
  return {
    size,
    async read (offset, length, opts) {
      opts?.signal?.throwIfAborted()
      checkRange(size, offset, length)
      const out = new Uint8Array(length)
      let done = 0
      while (done < length) {
        const { bytesRead } = await handle.read(out, done, length - done, offset + done)
        if (bytesRead === 0) {
          throw new TruncatedFileError(`the file shrank while reading at offset ${offset + done}`)
        }
        done += bytesRead
      }
      return out
    },
    async close () {
      await handle.close()
    }
  }
}
