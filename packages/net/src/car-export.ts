import * as dagCbor from '@ipld/dag-cbor'
import { varint } from 'multiformats'
import { walkDag } from './dag.ts'
import { ContentNotFoundError } from './errors.ts'
import { toBytes } from './iterables.ts'
import type { NodeHelia } from './index.ts'
import type { AbortOptions } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

function lengthPrefix (length: number): Uint8Array {
  const prefix = new Uint8Array(varint.encodingLength(length))
  varint.encodeTo(length, prefix)
  return prefix
}

/**
 * CARv1 of the DAG under `root`, depth first, each block once, from local blocks only.
 * Written here rather than with @helia/car because its graph walker leaves a missing block as
 * an unhandled rejection, which would take down a daemon serving a half-fetched DAG.
 */
export async function * exportLocalCar (helia: NodeHelia, root: CID, options: AbortOptions = {}): AsyncGenerator<Uint8Array> {
  const header = dagCbor.encode({ version: 1, roots: [root] })
  yield lengthPrefix(header.byteLength)
  yield header
  const load = async (cid: CID): Promise<Uint8Array> => {
    if (!(await helia.blockstore.has(cid, options))) {
      throw new ContentNotFoundError(`Block ${cid} of the DAG ${root} is not in the local store; fetch or pin the DAG first`)
    }
    return toBytes(helia.blockstore.get(cid, { offline: true, signal: options.signal }))
  }
  for await (const { cid, bytes } of walkDag(helia.getCodec, root, load, { signal: options.signal })) {
    yield lengthPrefix(cid.bytes.byteLength + bytes.byteLength)
    yield cid.bytes
    yield bytes
  }
}
