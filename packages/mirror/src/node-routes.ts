import { createGatewayHandler } from '@hubless/net'
import { sendJson } from './http-server.ts'
import type { Route } from './http-server.ts'
import type { HublessNode } from '@hubless/net'

/** `GET /healthz`: the process answers, and says which node it is */
export function createHealthRoute (node: Pick<HublessNode, 'peerId'>): Route {
  return async (_req, res, url) => {
    if (url.pathname !== '/healthz') return false
    sendJson(res, 200, { ok: true, peerId: node.peerId.toString() })
    return true
  }
}

/** The IPFS trustless gateway (`/ipfs/{cid}`) of `@hubless/net`, as the last route */
export function createGatewayRoute (node: HublessNode): Route {
  const gateway = createGatewayHandler(node)
  return async (req, res) => gateway(req, res)
}
