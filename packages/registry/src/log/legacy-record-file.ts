import { open, rm } from 'node:fs/promises'
import { logger } from '@libp2p/logger'
import { splitFrames } from './record-frame.ts'
import type { FileHandle } from 'node:fs/promises'

const log = logger('hubless:registry:upgrade')

/** the old file is read in pieces of this size, so that an upgrade never holds all of it */
const READ_BYTES = 1024 * 1024

/**
 * The record cache file of data dirs written before the record index moved into LevelDB
 * (`<log>.records` beside the log): frames (record-frame.ts) of every entry, in the order they
 * entered the log, parents first. Yields its whole frames in pieces; a torn or malformed tail is
 * left out (the record index then takes what it lacks from the log). Yields nothing when there
 * is no such file.
 */
export async function * legacyFrames (path: string): AsyncGenerator<Uint8Array[]> {
  let fh: FileHandle
  try {
    fh = await open(path, 'r')
  } catch {
    return
  }
  try {
    const chunk = new Uint8Array(READ_BYTES)
    let pending = new Uint8Array(0)
    while (true) {
      const { bytesRead } = await fh.read(chunk, 0, READ_BYTES, null)
      if (bytesRead === 0) break
      const buf = new Uint8Array(pending.length + bytesRead)
      buf.set(pending)
      buf.set(chunk.subarray(0, bytesRead), pending.length)
      const { frames, rest, bad } = splitFrames(buf)
      if (frames.length > 0) yield frames
      if (bad) {
        log('the old record cache %s has a malformed frame; the rest is taken from the log', path)
        return
      }
      pending = buf.slice(rest)
    }
    if (pending.length > 0) log('the old record cache %s ends in a torn frame; the rest is taken from the log', path)
  } finally {
    await fh.close()
  }
}

/** Remove the old file once its frames are in the record index */
export async function removeLegacyFile (path: string): Promise<void> {
  await rm(path, { force: true })
}
