import { createGatewayHandler } from '@hubless/net'
import { holds } from '@hubless/registry'
import { isAlive, readDaemonFile, removeDaemonFile, writeDaemonFile } from './daemon-file.ts'
import { sendJson, startHttpServer } from './http-server.ts'
import { createOperationHandler } from '../local-api/handler.ts'
import { startLocalApi } from '../local-api/server.ts'
import { DaemonRunningError } from '../errors.ts'
import { openServices } from '../services.ts'
import type { HttpServer, Route } from './http-server.ts'
import type { LocalApi } from '../local-api/server.ts'
import type { DataDirLayout } from '../data-dir.ts'
import type { Services } from '../services.ts'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface DaemonInit {
  layout: DataDirLayout
  listen: string[]
  peers: Multiaddr[]
  lan: boolean
  http: { host: string, port: number }
  /** extra HTTP routes (the mirror's public API and storefront) tried before the gateway */
  routes?: (services: Services) => Route[]
  /** HTTP trustless gateways content fetches fall back to */
  gateways?: string[]
  /** ms after a catalog change until the saved index is written (default: on stop only) */
  saveIndexAfter?: number
  onNotice?: (line: string) => void
}

export interface RunningDaemon {
  services: Services
  peerId: string
  multiaddrs: string[]
  /** the public HTTP side: `http://host:port` (gateway; a mirror's API and storefront) */
  api: string
  /** the local operation API, for this user's own `hubless` commands only */
  localApi: string
  stop (): Promise<void>
}

/** Opens the node, serves the HTTP side, keeps the named peers connected and records itself */
export async function startDaemon (init: DaemonInit): Promise<RunningDaemon> {
  const existing = await readDaemonFile(init.layout.daemonFile)
  if (existing != null && existing.pid !== process.pid && isAlive(existing.pid)) {
    throw new DaemonRunningError(`a daemon (pid ${existing.pid}) already runs on ${init.layout.root}, its HTTP side at ${existing.http}`)
  }

  const services = await openServices(init.layout, { listen: init.listen, lan: init.lan, peers: init.peers.map(p => p.toString()), gateways: init.gateways, saveIndexAfter: init.saveIndexAfter })
  const lifetime = new AbortController()
  let http: HttpServer
  let localApi: LocalApi
  try {
    // the daemon replicates the registry with every connected peer from the start
    await services.registry()
    // and the witness log beside it (peers that know it replicate it; older ones never see it)
    await services.witnesses()
    await holds()({ registrar: services.node.libp2p, registry: await services.registry(), content: services.node.content }).start()
    const gateway = createGatewayHandler(services.node)
    const gatewayRoute: Route = async (req, res) => gateway(req, res)
    const healthRoute: Route = async (_req, res, url) => {
      if (url.pathname !== '/healthz') return false
      sendJson(res, 200, { ok: true, peerId: services.node.peerId.toString() })
      return true
    }
    // the public side never serves operations: they act with the node's keys (SECURITY.md)
    http = await startHttpServer(init.http, [healthRoute, ...(init.routes?.(services) ?? []), gatewayRoute])
    try {
      localApi = await startLocalApi({ socketPath: init.layout.apiSocket, tokenFile: init.layout.apiToken }, createOperationHandler(services, lifetime.signal))
    } catch (err) {
      await http.close()
      throw err
    }
  } catch (err) {
    await services.stop()
    throw err
  }

  const peerId = services.node.peerId.toString()
  await writeDaemonFile(init.layout.daemonFile, { pid: process.pid, api: localApi.endpoint, http: http.url, peerId })
  // the node keeps these peers connected; a first dial here only tells the operator about a dead one
  for (const peer of init.peers) {
    services.node.dial(peer, { signal: AbortSignal.any([lifetime.signal, AbortSignal.timeout(10_000)]) }).then(
      () => { init.onNotice?.(`connected to ${peer.toString()}`) },
      (err: Error) => { if (!lifetime.signal.aborted) init.onNotice?.(`cannot reach peer ${peer.toString()} (${err.message}); retrying in the background`) }
    )
  }

  const httpServer = http
  const local = localApi
  return {
    services,
    peerId,
    multiaddrs: services.node.getMultiaddrs(),
    api: http.url,
    localApi: local.endpoint,
    async stop () {
      lifetime.abort()
      await local.close()
      await httpServer.close()
      await services.stop()
      await removeDaemonFile(init.layout.daemonFile, process.pid)
    }
  }
}
