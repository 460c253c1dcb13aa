import { createHash } from 'node:crypto'
import { createUnsafe } from 'multiformats/block'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { equals } from 'uint8arrays/equals'
import type { CodecLoader, HasherLoader } from '@helia/interface'
import type { CID } from 'multiformats/cid'

const IDENTITY = 0x00

/** Whether `bytes` hash to the multihash in `cid`. Unknown hash functions throw. */
export async function blockMatches (getHasher: HasherLoader, cid: CID, bytes: Uint8Array): Promise<boolean> {
  if (cid.multihash.code === IDENTITY) {
    return equals(cid.multihash.digest, bytes)
  }
  // sha2-256, the common case, hashed at once (the hasher's digest is a promise per block)
  if (cid.multihash.code === sha256.code) return equals(createHash('sha256').update(bytes).digest(), cid.multihash.digest)
  const hasher = await getHasher(cid.multihash.code)
  const digest = await hasher.digest(bytes)
  return equals(digest.digest, cid.multihash.digest)
}

const DAG_CBOR = 0x71

/**
 * false when a block cannot link to another, told from its bytes without decoding them: raw
 * bytes, and dag-cbor with no tag 42 head (0xd8 0x2a, the only form dag-cbor's strict decoder
 * reads a link in) anywhere in them, such as OrbitDB's entries; true for anything else, which
 * the caller decodes to see.
 */
export function mayLink (code: number, bytes: Uint8Array): boolean {
  if (code === raw.code) return false
  if (code !== DAG_CBOR) return true
  for (let at = bytes.indexOf(0xd8); at >= 0 && at < bytes.length - 1; at = bytes.indexOf(0xd8, at + 1)) {
    if (bytes[at + 1] === 0x2a) return true
  }
  return false
}

/** The CIDs a block links to, for any codec the node knows (dag-pb, raw, dag-cbor, …). */
export async function blockLinks (getCodec: CodecLoader, cid: CID, bytes: Uint8Array): Promise<CID[]> {
  if (cid.code === raw.code) return []
  const codec = await getCodec(cid.code)
  const block = createUnsafe({ bytes, cid, codec })
  const links: CID[] = []
  for (const [, link] of block.links()) {
    links.push(link)
  }
  return links
}

export interface DagBlock {
  cid: CID
  bytes: Uint8Array
}

export interface WalkOptions {
  signal?: AbortSignal
  /**
   * How many of the next blocks in walk order to load while the current one is handed out
   * (default 0: one at a time). Blocks are still yielded in walk order; a load that fails is
   * reported when the walk reaches its block.
   */
  lookahead?: number
}

/** Visits every block under `root` once, depth first in link order (file order for UnixFS). */
export async function * walkDag (getCodec: CodecLoader, root: CID, load: (cid: CID) => Promise<Uint8Array>, options: WalkOptions = {}): AsyncGenerator<DagBlock> {
  const { signal } = options
  const lookahead = options.lookahead ?? 0
  const seen = new Set<string>()
  const stack: CID[] = [root]
  const pending = new Map<string, Promise<Uint8Array>>()
  const start = (cid: CID, key: string): Promise<Uint8Array> => {
    const loading = load(cid)
    // awaited when the walk reaches the block; until then a failure must not go unhandled
    loading.catch(() => {})
    pending.set(key, loading)
    return loading
  }
  while (stack.length > 0) {
    signal?.throwIfAborted()
    const cid = stack.pop()!
    const key = cid.toString()
    if (seen.has(key)) continue
    seen.add(key)
    const loading = pending.get(key) ?? start(cid, key)
    pending.delete(key)
    // the next blocks of the walk, loading while this one is used
    for (let i = stack.length - 1; i >= 0 && pending.size < lookahead; i--) {
      const next = stack[i]!
      const nextKey = next.toString()
      if (!seen.has(nextKey) && !pending.has(nextKey)) start(next, nextKey)
    }
    const bytes = await loading
    yield { cid, bytes }
    const links = await blockLinks(getCodec, cid, bytes)
    for (let i = links.length - 1; i >= 0; i--) stack.push(links[i]!)
  }
}
