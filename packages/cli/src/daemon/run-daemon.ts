import { createGatewayHandler } from '@hubless/net'
import { createApiRoutes } from './api-routes.ts'
import { isAlive, readDaemonFile, removeDaemonFile, writeDaemonFile } from './daemon-file.ts'
import { startHttpServer } from './http-server.ts'
import { DaemonRunningError } from '../errors.ts'
import { serveHolds } from '../holds-protocol.ts'
import { openServices } from '../services.ts'
import type { HttpServer, Route } from './http-server.ts'
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
  api: string
  stop (): Promise<void>
}

/** Opens the node, serves the HTTP side, keeps the named peers connected and records itself */
export async function startDaemon (init: DaemonInit): Promise<RunningDaemon> {
  const existing = await readDaemonFile(init.layout.daemonFile)
  if (existing != null && existing.pid !== process.pid && isAlive(existing.pid)) {
    throw new DaemonRunningError(`a daemon (pid ${existing.pid}) already runs on ${init.layout.root}, its API at ${existing.api}`)
  }

  const services = await openServices(init.layout, { listen: init.listen, lan: init.lan, peers: init.peers.map(p => p.toString()), gateways: init.gateways, saveIndexAfter: init.saveIndexAfter })
  const lifetime = new AbortController()
  let http: HttpServer
  try {
    // the daemon replicates the registry with every connected peer from the start
    await services.registry()
    await serveHolds(services)
    const gateway = createGatewayHandler(services.node)
    const gatewayRoute: Route = async (req, res) => gateway(req, res)
    http = await startHttpServer(init.http, [
      createApiRoutes(services, lifetime.signal),
      ...(init.routes?.(services) ?? []),
      gatewayRoute
    ])
  } catch (err) {
    await services.stop()
    throw err
  }

  const peerId = services.node.peerId.toString()
  await writeDaemonFile(init.layout.daemonFile, { pid: process.pid, api: http.url, peerId })
  // the node keeps these peers connected; a first dial here only tells the operator about a dead one
  for (const peer of init.peers) {
    services.node.dial(peer, { signal: AbortSignal.any([lifetime.signal, AbortSignal.timeout(10_000)]) }).then(
      () => { init.onNotice?.(`connected to ${peer.toString()}`) },
      (err: Error) => { if (!lifetime.signal.aborted) init.onNotice?.(`cannot reach peer ${peer.toString()} (${err.message}); retrying in the background`) }
    )
  }

  const httpServer = http
  return {
    services,
    peerId,
    multiaddrs: services.node.getMultiaddrs(),
    api: http.url,
    async stop () {
      lifetime.abort()
      await httpServer.close()
      await services.stop()
      await removeDaemonFile(init.layout.daemonFile, process.pid)
    }
  }
}
