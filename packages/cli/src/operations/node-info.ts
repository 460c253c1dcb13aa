import { defineOperation } from './operation.ts'

export interface NodeInfo {
  peerId: string
  multiaddrs: string[]
  connections: string[]
}

export const nodeInfo = defineOperation<Record<string, never>, NodeInfo, 'node-info'>('node-info', async ({ services }) => {
  const node = services.node
  return {
    peerId: node.peerId.toString(),
    multiaddrs: node.getMultiaddrs(),
    connections: [...new Set(node.libp2p.getConnections().map(c => c.remotePeer.toString()))]
  }
})
