import { logger } from '@libp2p/logger'
import * as cborg from 'cborg'
import { Key } from 'interface-datastore'
import { CustomProgressEvent } from 'progress-events'
import { equals } from 'uint8arrays/equals'
import { base36Encode } from './multibase.ts'
import type { PinOptions } from './index.ts'
import type { Datastore } from 'interface-datastore'
import type { CID } from 'multiformats/cid'

const log = logger('hubless:net:bulk-pin')

/**
 * Helia 7's pin records (`helia/dist/src/pins.js`), written here in the same keys and encoding so
 * that Helia's `isPinned`, `ls`, `rm` and `gc` read them as their own; test/bulk-pin.test.ts
 * compares the datastore after this and after Helia's `pins.add` of the same DAG, so an upgrade
 * of Helia that changes them fails there.
 */
const PIN_PREFIX = '/pin/'
const BLOCK_PREFIX = '/pinned-block/'

export interface PinnedBlock {
  pinCount: number
  pinnedBy: Uint8Array[]
}

/** A block's pin record as stored (or a new one) */
function pinnedBlock (value: Uint8Array | undefined): PinnedBlock {
  return value == null ? { pinCount: 0, pinnedBy: [] } : cborg.decode(value) as PinnedBlock
}

/** `{ pinCount: …` as cborg writes it: a map of two, then the 8-byte text key */
const PIN_COUNT_HEAD = Uint8Array.of(0xa2, 0x68, ...new TextEncoder().encode('pinCount'))
const PINNED_BY_KEY = Uint8Array.of(0x68, ...new TextEncoder().encode('pinnedBy'))

/** bytes of a CBOR item's head (shortest form) */
function headSize (n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5
}

/** writes a CBOR item's head (major type and argument, shortest form) at `at`; returns where it ends */
function writeHead (out: Uint8Array, at: number, major: number, n: number): number {
  const m = major << 5
  if (n < 24) {
    out[at] = m | n
    return at + 1
  }
  const size = headSize(n)
  out[at] = m | (size === 2 ? 24 : size === 3 ? 25 : 26)
  for (let i = size - 1; i >= 1; i--) {
    out[at + i] = n & 0xff
    n = Math.floor(n / 256)
  }
  return at + size
}

/**
 * `cborg.encode(pinned)`, byte for byte (a test holds them together), without cborg's generic
 * walk and key sort: a catch-up writes one of these for every entry. Both keys are 8 bytes, so
 * cborg's length-first order is their byte order, pinCount first.
 */
export function encodePinnedBlock (pinned: PinnedBlock): Uint8Array {
  const { pinCount, pinnedBy } = pinned
  let size = PIN_COUNT_HEAD.length + headSize(pinCount) + PINNED_BY_KEY.length + headSize(pinnedBy.length)
  for (const by of pinnedBy) size += headSize(by.byteLength) + by.byteLength
  const out = new Uint8Array(size)
  out.set(PIN_COUNT_HEAD)
  let at = writeHead(out, PIN_COUNT_HEAD.length, 0, pinCount)
  out.set(PINNED_BY_KEY, at)
  at = writeHead(out, at + PINNED_BY_KEY.length, 4, pinnedBy.length)
  for (const by of pinnedBy) {
    at = writeHead(out, at, 2, by.byteLength)
    out.set(by, at)
    at += by.byteLength
  }
  return out
}

/** Counts `root` among the pins holding the block, as Helia's `pins.add` does; false when it was already */
function holdFor (pinned: PinnedBlock, root: CID): boolean {
  if (pinned.pinnedBy.some(by => equals(by, root.bytes))) return false
  pinned.pinCount++
  pinned.pinnedBy.push(root.bytes)
  return true
}

/** A pin's own record: the whole DAG, no metadata (the same bytes for every root) */
const ROOT_RECORD = cborg.encode({ depth: Number.POSITIVE_INFINITY, metadata: {} })

/** Records read and written per LevelDB call */
const CHUNK = 2048

export interface BulkPinComponents {
  datastore: Datastore
  /** one native call for many keys (classic-level's `getMany`); without it, parallel `get`s */
  getMany?(keys: string[]): Promise<Array<Uint8Array | undefined>>
}

export function pinKey (root: CID): Key {
  // the string is a clean key already (Key's cleaning would only cost)
  return new Key(pinKeyString(root), false)
}

function pinKeyString (root: CID): string {
  return `${PIN_PREFIX}${base36Encode((root.version === 0 ? root.toV1() : root).bytes)}`
}

function blockKey (cid: CID): string {
  return `${BLOCK_PREFIX}${base36Encode(cid.multihash.bytes)}`
}

async function readAll (components: BulkPinComponents, keys: string[], options: PinOptions): Promise<Array<Uint8Array | undefined>> {
  if (components.getMany != null) return components.getMany(keys)
  return Promise.all(keys.map(async key => {
    try {
      return await components.datastore.get(new Key(key), options)
    } catch (err) {
      if ((err as Error).name === 'NotFoundError') return undefined
      throw err
    }
  }))
}

/**
 * Pins `root` over `blocks`, every block of its DAG (the caller has them all, as an add does), with
 * one read and one batch write per `CHUNK` blocks where Helia's `pins.add` reads and writes each
 * block's record on its own (3,942 blocks of a 64 MiB image: most of the add's time). Like Helia's,
 * the root's own record is written last: a crash part-way leaves blocks held but nothing claiming
 * to be pinned. Callers serialise pins that may share blocks (read, then write).
 */
export async function pinBlocks (components: BulkPinComponents, root: CID, blocks: Iterable<CID>, options: PinOptions = {}): Promise<void> {
  const rootKey = pinKey(root)
  if (await components.datastore.has(rootKey, options)) return
  const unique = new Map<string, CID>()
  for (const cid of blocks) unique.set(blockKey(cid), cid)
  const entries = [...unique]
  for (let at = 0; at < entries.length; at += CHUNK) {
    options.signal?.throwIfAborted()
    const chunk = entries.slice(at, at + CHUNK)
    const values = await readAll(components, chunk.map(([key]) => key), options)
    const batch = components.datastore.batch()
    const added: CID[] = []
    for (let i = 0; i < chunk.length; i++) {
      const [key, cid] = chunk[i]!
      const value = values[i]
      const pinned = pinnedBlock(value)
      if (!holdFor(pinned, root)) continue
      batch.put(new Key(key), encodePinnedBlock(pinned))
      added.push(cid)
    }
    await batch.commit(options)
    for (const cid of added) options.onProgress?.(new CustomProgressEvent('hubless:pin:block', cid))
  }
  await components.datastore.put(rootKey, ROOT_RECORD, options)
  log('pinned %c over %d blocks', root, entries.length)
}

/**
 * Pins each of `roots` as a DAG of one block (the caller checked that its block links to
 * nothing: OrbitDB's entries and identities): one read of their pin and block records and one
 * batch (atomic) write per `CHUNK` roots, where Helia's `pins.add` takes four reads and writes a
 * root, one after another. Roots pinned already are left as they are.
 */
export async function pinSingleBlocks (components: BulkPinComponents, roots: CID[], options: PinOptions = {}): Promise<void> {
  // by pin key: one root given twice is pinned once
  const unique = new Map<string, CID>()
  for (const root of roots) unique.set(pinKeyString(root), root)
  const all = [...unique]
  for (let at = 0; at < all.length; at += CHUNK) {
    options.signal?.throwIfAborted()
    const part = all.slice(at, at + CHUNK)
    const rootKeys = part.map(([key]) => key)
    const chunk = part.map(([, root]) => root)
    const blockKeys = chunk.map(root => blockKey(root))
    const values = await readAll(components, [...rootKeys, ...blockKeys], options)
    const batch = components.datastore.batch()
    // two roots of one multihash (other codecs) share a block record
    const records = new Map<string, PinnedBlock>()
    for (let i = 0; i < chunk.length; i++) {
      if (values[i] != null) continue
      const root = chunk[i]!
      const key = blockKeys[i]!
      const value = values[chunk.length + i]
      const pinned = records.get(key) ?? pinnedBlock(value)
      records.set(key, pinned)
      holdFor(pinned, root)
      batch.put(new Key(rootKeys[i]!, false), ROOT_RECORD)
    }
    for (const [key, pinned] of records) batch.put(new Key(key, false), encodePinnedBlock(pinned))
    await batch.commit(options)
  }
  log('pinned %d one-block roots', all.length)
}
