import { withBitswap } from '@helia/bitswap'
import { withLibp2pLight } from '@helia/libp2p'
import * as dagCbor from '@ipld/dag-cbor'
import { logger } from '@libp2p/logger'
import { createHeliaLight } from 'helia'
import { sha512 } from 'multiformats/hashes/sha2'
import { ListenError } from './errors.ts'
import { libp2pOptions } from './libp2p-options.ts'
import { sequentialWalker } from './pin-walker.ts'
import type { NodeHelia, NodeInit, NodeServices } from './index.ts'
import type { PrivateKey } from '@libp2p/interface'
import type { Blockstore } from 'interface-blockstore'
import type { Datastore } from 'interface-datastore'

const log = logger('hubless:net:helia')

export interface HeliaParts {
  privateKey?: PrivateKey
  blockstore?: Blockstore
  datastore?: Datastore
}

function isListenFailure (err: unknown): boolean {
  const e = err as NodeJS.ErrnoException
  return e?.code === 'EADDRINUSE' || e?.code === 'EADDRNOTAVAIL' || e?.code === 'EACCES' ||
    e?.name === 'NoValidAddressesError' || /EADDRINUSE|EADDRNOTAVAIL|EACCES/.test(e?.message ?? '')
}

/** Helia 7 from parts: no default routers, gateways or public bootstrap peers. Stores default to memory. */
export async function startHelia (init: NodeInit, parts: HeliaParts): Promise<NodeHelia> {
  const light = createHeliaLight({
    blockstore: parts.blockstore,
    datastore: parts.datastore,
    // OrbitDB stores its log entries as dag-cbor
    codecs: [dagCbor],
    hashers: [sha512]
  })
  const helia: NodeHelia = withBitswap(withLibp2pLight<typeof light, NodeServices>(light, libp2pOptions(init, parts)))
  // OrbitDB calls pins.add without a walker; give every caller the cheaper one (see pin-walker.ts)
  const { pins } = helia
  const add = pins.add.bind(pins)
  const rm = pins.rm.bind(pins)
  pins.add = (cid, options = {}) => add(cid, { ...options, walker: options.walker ?? sequentialWalker() })
  pins.rm = (cid, options = {}) => rm(cid, { ...options, walker: options.walker ?? sequentialWalker() })
  try {
    await helia.start()
  } catch (err) {
    await helia.stop().catch((stopErr: unknown) => { log.error('stop after failed start - %e', stopErr) })
    if (isListenFailure(err)) {
      throw new ListenError(`Cannot listen on ${(init.listen ?? []).join(', ') || 'the default address'}: ${(err as Error).message}. Pick a free port or an address of this host.`)
    }
    throw err
  }
  return helia
}

