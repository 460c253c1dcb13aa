import { defineOperation } from './operation.ts'
import type { CleanRegistryState } from '../registry-state.ts'

export interface StatusOutput {
  peerId: string
  /** where the running node listens; none when no daemon runs */
  multiaddrs: string[]
  /** peer ids connected now */
  peers: string[]
  registry: {
    name: string
    address: string
    records: number
    heads: string[]
    /** peers replicating the registry with us */
    peers: string[]
    /** ISO 8601 */
    lastSync?: string
    /** entries the access controller refused since the registry opened (a hostile writer, or a rule this version tightened) */
    rejected: number
    /** records of a neighbour's live set shown before the log holds them (the history still arriving); absent when none */
    live?: number
  }
  publisher?: string
  /** ISO 8601, when no node runs: the status is what the last node to stop saved then */
  savedAt?: string
}

export const status = defineOperation<Record<string, never>, StatusOutput, 'status'>('status', async ({ services, signal }) => {
  const registry = await services.registry({ signal })
  const s = await registry.status({ signal })
  const publisher = await services.publisherKey({ signal }).then(k => k.did, () => undefined)
  const peers = [...new Set(services.node.libp2p.getConnections().map(c => c.remotePeer.toString()))]
  return {
    peerId: services.node.peerId.toString(),
    multiaddrs: services.node.getMultiaddrs(),
    peers,
    registry: {
      name: s.name,
      address: s.address,
      records: s.records,
      heads: s.heads,
      peers: s.peers,
      lastSync: s.lastSync == null ? undefined : new Date(s.lastSync).toISOString(),
      rejected: s.rejected,
      ...(s.live == null ? {} : { live: s.live })
    },
    publisher
  }
})

/** The status of a stopped node, from the state it saved (registry-state.ts) */
export function statusFromState (state: CleanRegistryState): StatusOutput {
  return {
    peerId: state.peerId,
    multiaddrs: [],
    peers: [],
    registry: { ...state.registry, peers: [], rejected: 0 },
    publisher: state.publisher,
    savedAt: state.savedAt
  }
}
