import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { type FileHandle, open, stat } from 'node:fs/promises'
import { parseCid } from './cid.ts'
import { ContentNotFoundError, FileReadError } from './errors.ts'
import { readFileLayout } from './file-layout.ts'
import { toBytes } from './iterables.ts'
import { leafKey } from './leaf-assembler.ts'
import type { Chunker, NodeHelia } from './index.ts'
import type { LeafGroup } from './leaf-assembler.ts'
import type { AbortOptions } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

const READ_SIZE = 1024 * 1024

/** sha2-256 multihash prefix (code 0x12, 32 bytes), as `leafKey` spells it */
const SHA256_PREFIX = '1220'

/** A chunk's key among the wanted leaves (`leafKey` of the raw leaf it would be) */
function chunkKey (bytes: Uint8Array): string {
  return SHA256_PREFIX + createHash('sha256').update(bytes).digest('hex')
}

export interface SeedOptions extends AbortOptions {
  /** bytes of the seed read so far */
  onBytes?: (bytes: number) => void
}

/** Where a chunk of the seed lies, by its key (`leafKey` of a sha2-256 raw leaf) */
export type SeedIndex = Map<string, { offset: number, size: number }>

export interface SeedScan {
  /** chunks read before `match` was set, or that it did not take */
  index: SeedIndex
  /** why the seed was not read to its end (the index holds what came before) */
  error?: Error
}

/**
 * Takes a chunk of the seed as it is read, once the wanted leaves are known: true when it was
 * wanted (and placed), false to note it in the index
 */
export type SeedMatch = (key: string, bytes: Uint8Array) => Promise<boolean>

export interface SeedScanOptions extends SeedOptions {
  /** read when each chunk has been hashed: set once the wanted leaves are known */
  match?(): SeedMatch | undefined
}

/**
 * Reads a local file that shares blocks with the one wanted (the installed version of an app)
 * with the chunker that cut the wanted file, once, hashing each chunk with sha2-256. It starts
 * while the wanted file's DAG nodes still load, before anyone knows which leaves are wanted:
 * until then each chunk's place is noted (a few entries a MiB); from then on `match` takes them
 * as they come, so most of the seed is never read twice. Only raw leaves hashed with sha2-256
 * can match. A seed that cannot be read to its end gives what it gave, and the error.
 */
export async function scanSeed (path: string, chunker: Chunker, options: SeedScanOptions = {}): Promise<SeedScan> {
  const index: SeedIndex = new Map()
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
  let offset = 0
  // what `match` throws (a limit passed, a write that failed) is the caller's, not the seed's
  let failed: Error | undefined
  try {
    for await (const chunk of chunker(bytes())) {
      options.signal?.throwIfAborted()
      const key = chunkKey(chunk)
      const match = options.match?.()
      let taken = false
      if (match != null) {
        try {
          taken = await match(key, chunk)
        } catch (err) {
          failed = err as Error
          break
        }
      }
      if (!taken && !index.has(key)) index.set(key, { offset, size: chunk.byteLength })
      offset += chunk.byteLength
    }
  } catch (err) {
    options.signal?.throwIfAborted()
    return { index, error: err as Error }
  }
  if (failed != null) throw failed
  return { index }
}

/**
 * Where the leaves of a seed lie, read from its own DAG's nodes in the blockstore (an installed
 * release keeps them), without reading the seed: undefined when a node is not held, or when the
 * seed's size is no longer the DAG's (a file changed in length is cut again, to find what moved).
 * A leaf the file no longer holds fails its hash when copied, and is fetched.
 */
export async function seedIndexFromDag (helia: Pick<NodeHelia, 'blockstore'>, path: string, root: CID | string, options: AbortOptions = {}): Promise<SeedIndex | undefined> {
  const { signal } = options
  try {
    const size = (await stat(path)).size
    const layout = await readFileLayout(parseCid(root), async cid => {
      if (!(await helia.blockstore.has(cid, { signal }))) throw new ContentNotFoundError(`${cid} is not held`)
      return await toBytes(helia.blockstore.get(cid, { offline: true, signal }))
    }, { signal })
    if (layout.size !== size || layout.leaves.length === 0) return undefined
    const index: SeedIndex = new Map()
    for (const leaf of layout.leaves) {
      const key = leafKey(leaf.cid)
      if (!index.has(key)) index.set(key, { offset: leaf.offset, size: leaf.size })
    }
    return index
  } catch {
    signal?.throwIfAborted()
    // not held, unreadable, or not a file's DAG: the seed is cut and hashed instead
    return undefined
  }
}

/** Bytes of adjacent leaves read from the seed at once */
const RUN_BYTES = 4 * 1024 * 1024

interface Hit { key: string, group: LeafGroup, offset: number }

/** Hits in file order, grouped into runs of adjacent ones (one read each) */
function runsOf (hits: Hit[]): Hit[][] {
  const runs: Hit[][] = []
  let run: Hit[] = []
  let end = -1
  let bytes = 0
  for (const hit of hits) {
    if (run.length > 0 && (hit.offset !== end || bytes + hit.group.size > RUN_BYTES)) {
      runs.push(run)
      run = []
      bytes = 0
    }
    run.push(hit)
    end = hit.offset + hit.group.size
    bytes += hit.group.size
  }
  if (run.length > 0) runs.push(run)
  return runs
}

/**
 * Hands each wanted leaf the scan found to `found`, read again from the seed (adjacent ones in
 * one read, the next run read while this one is handed on) and hashed again: the file may have
 * changed since the scan, and such a leaf stays wanted.
 */
export async function copyFromSeed (path: string, index: SeedIndex, wanted: Map<string, LeafGroup>, found: (group: LeafGroup, bytes: Uint8Array) => Promise<void>, options: AbortOptions = {}): Promise<void> {
  const hits = [...wanted].flatMap(([key, group]) => {
    const at = index.get(key)
    return at != null && at.size === group.size ? [{ key, group, offset: at.offset }] : []
  }).sort((a, b) => a.offset - b.offset)
  if (hits.length === 0) return
  let file: FileHandle
  try {
    file = await open(path, 'r')
  } catch (err) {
    throw new FileReadError(`Cannot read ${path}: ${(err as Error).message}`)
  }
  const readRun = async (run: Hit[]): Promise<Uint8Array> => {
    const start = run[0]!.offset
    const last = run.at(-1)!
    const bytes = new Uint8Array(last.offset + last.group.size - start)
    const { bytesRead } = await file.read(bytes, 0, bytes.byteLength, start)
    return bytes.subarray(0, bytesRead)
  }
  try {
    const runs = runsOf(hits)
    let next: Promise<Uint8Array> | undefined = readRun(runs[0]!)
    for (let i = 0; i < runs.length; i++) {
      options.signal?.throwIfAborted()
      const bytes = await next!
      next = i + 1 < runs.length ? readRun(runs[i + 1]!) : undefined
      next?.catch(() => {})
      const start = runs[i]![0]!.offset
      for (const { key, group, offset } of runs[i]!) {
        const leaf = bytes.subarray(offset - start, offset - start + group.size)
        if (leaf.byteLength !== group.size) continue
        if (chunkKey(leaf) !== key) continue
        await found(group, leaf)
      }
    }
    await next?.catch(() => {})
  } finally {
    await file.close()
  }
}
