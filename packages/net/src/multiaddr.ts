import { multiaddr } from '@multiformats/multiaddr'
import { BadMultiaddrError } from './errors.ts'
import type { Multiaddr } from '@multiformats/multiaddr'

export function parseMultiaddr (input: string | Multiaddr): Multiaddr {
  if (typeof input !== 'string') return input
  try {
    return multiaddr(input.trim())
  } catch (err) {
    throw new BadMultiaddrError(`"${input}" is not a multiaddr (${(err as Error).message}). Expected e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3Koo….`)
  }
}
