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
