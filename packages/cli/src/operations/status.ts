import { defineOperation } from './operation.ts'

export interface StatusOutput {
  peerId: string
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
    lastSync?: string
    /** entries the access controller refused since the registry opened (a hostile writer, or a rule this version tightened) */
    rejected: number
  }
  publisher?: string
}

export const status = defineOperation<Record<string, never>, StatusOutput & { records: number }>('status', async ({ services, signal }) => {
  const registry = await services.registry({ signal })
  const s = await registry.status({ signal })
  const publisher = await services.publisherKey({ signal }).then(k => k.did, () => undefined)
  const peers = [...new Set(services.node.libp2p.getConnections().map(c => c.remotePeer.toString()))]
  return {
    peerId: services.node.peerId.toString(),
    multiaddrs: services.node.getMultiaddrs(),
    records: s.records,
    peers,
    registry: {
      name: s.name,
      address: s.address,
      records: s.records,
      heads: s.heads,
      peers: s.peers,
      lastSync: s.lastSync == null ? undefined : new Date(s.lastSync).toISOString(),
      rejected: s.rejected
    },
    publisher
  }
})
