import { createUnsafe } from 'multiformats/block'
import * as raw from 'multiformats/codecs/raw'
import { equals } from 'uint8arrays/equals'
import type { CodecLoader, HasherLoader } from '@helia/interface'
import type { CID } from 'multiformats/cid'

const IDENTITY = 0x00

/** Whether `bytes` hash to the multihash in `cid`. Unknown hash functions throw. */
export async function blockMatches (getHasher: HasherLoader, cid: CID, bytes: Uint8Array): Promise<boolean> {
  if (cid.multihash.code === IDENTITY) {
    return equals(cid.multihash.digest, bytes)
  }
  const hasher = await getHasher(cid.multihash.code)
  const digest = await hasher.digest(bytes)
  return equals(digest.digest, cid.multihash.digest)
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

/** Visits every block under `root` once, depth first in link order (file order for UnixFS). */
export async function * walkDag (getCodec: CodecLoader, root: CID, load: (cid: CID) => Promise<Uint8Array>, signal?: AbortSignal): AsyncGenerator<DagBlock> {
  const seen = new Set<string>()
  const stack: CID[] = [root]
  while (stack.length > 0) {
    signal?.throwIfAborted()
    const cid = stack.pop()!
    const key = cid.toString()
    if (seen.has(key)) continue
    seen.add(key)
    const bytes = await load(cid)
    yield { cid, bytes }
    const links = await blockLinks(getCodec, cid, bytes)
    for (let i = links.length - 1; i >= 0; i--) stack.push(links[i]!)
  }
}
