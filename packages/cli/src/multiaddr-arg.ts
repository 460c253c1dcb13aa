import { multiaddr } from '@multiformats/multiaddr'
import { UsageError } from './errors.ts'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Parses a multiaddr given on the command line, naming the flag when it is not one */
export function parseMultiaddrArg (value: string, flag: string): Multiaddr {
  try {
    const ma = multiaddr(value)
    ma.getComponents()
    return ma
  } catch (err) {
    throw new UsageError(`${flag} "${value}" is not a multiaddr (${(err as Error).message}); expected e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3Koo…`)
  }
}
