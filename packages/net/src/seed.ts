import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { FileReadError } from './errors.ts'
import type { Chunker } from './index.ts'
import type { LeafGroup } from './leaf-assembler.ts'
import type { AbortOptions } from '@libp2p/interface'

const READ_SIZE = 1024 * 1024

/** sha2-256 multihash prefix (code 0x12, 32 bytes), as `leafKey` spells it */
const SHA256_PREFIX = '1220'

export interface SeedOptions extends AbortOptions {
  /** bytes of the seed read so far */
  onBytes?: (bytes: number) => void
}

/**
 * Reads a local file that shares blocks with the one wanted (the installed version of an app)
 * with the chunker that cut the wanted file, once, and hands each chunk that is a wanted leaf
 * (same sha2-256 and size) to `found`, which writes it where the new file holds it. Nothing is
 * stored: a later run reads the file again. Only raw leaves hashed with sha2-256 can match.
 */
export async function seedFromFile (path: string, chunker: Chunker, wanted: Map<string, LeafGroup>, found: (group: LeafGroup, bytes: Uint8Array) => Promise<void>, options: SeedOptions = {}): Promise<void> {
  let read = 0
  async function * bytes (): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of createReadStream(path, { signal: options.signal, highWaterMark: READ_SIZE })) {
        read += (chunk as Uint8Array).byteLength
        options.onBytes?.(read)
        yield chunk as Uint8Array
      }
    } catch (err) {
      options.signal?.throwIfAborted()
      throw new FileReadError(`Cannot read ${path}: ${(err as Error).message}`)
    }
  }
  for await (const chunk of chunker(bytes())) {
    options.signal?.throwIfAborted()
    if (wanted.size === 0) break
    const key = SHA256_PREFIX + createHash('sha256').update(chunk).digest('hex')
    const group = wanted.get(key)
    if (group == null || group.size !== chunk.byteLength) continue
    await found(group, chunk)
  }
}
