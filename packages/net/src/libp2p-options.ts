import { bootstrap } from '@libp2p/bootstrap'
import { gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { mdns } from '@libp2p/mdns'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import type { NodeInit, NodeServices } from './index.ts'
import type { PrivateKey } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'
import type { Libp2pOptions } from 'libp2p'

export const DEFAULT_LISTEN = ['/ip4/127.0.0.1/tcp/0']
export const DEFAULT_MAX_CONNECTIONS = 100

export interface Libp2pParts {
  /** Default: a new key each start. */
  privateKey?: PrivateKey
  /** Default: libp2p's in-memory datastore. */
  datastore?: Datastore
}

/**
 * Everything is listed explicitly: libp2p and Helia defaults would add public bootstrap nodes,
 * delegated HTTP routers, UPnP and relay, all of which reach outside the machine.
 */
export function libp2pOptions (init: NodeInit, parts: Libp2pParts): Libp2pOptions<NodeServices> {
  const peerDiscovery: NonNullable<Libp2pOptions<NodeServices>['peerDiscovery']> = []
  if (init.lan === true) {
    peerDiscovery.push(mdns({ interval: init.mdnsInterval ?? 10_000 }))
  }
  if (init.bootstrap != null && init.bootstrap.length > 0) {
    peerDiscovery.push(bootstrap({ list: [...init.bootstrap] }))
  }
  return {
    privateKey: parts.privateKey,
    datastore: parts.datastore,
    addresses: {
      listen: [...(init.listen ?? DEFAULT_LISTEN)],
      announce: init.announce != null ? [...init.announce] : undefined
    },
    transports: [tcp(), webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery,
    connectionManager: {
      maxConnections: init.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      dialTimeout: init.dialTimeout ?? 10_000
    },
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({
        // OrbitDB publishes heads before any peer has joined its topic
        allowPublishToZeroTopicPeers: true,
        emitSelf: false,
        heartbeatInterval: init.pubsubHeartbeatInterval ?? 1000,
        // gossipsub's default scoring marks peers down by how many share an address (counting
        // those that left within the hour) and ignores them past a threshold: from the 15th peer
        // in an hour from one address (a NAT, one host), every peer from it was ignored, and a
        // new one never got the registry's heads. Heads are signed and checked on arrival, so
        // many peers at one address can withhold at most, as many at many addresses could
        scoreParams: { IPColocationFactorWeight: 0 }
      })
    }
  }
}
