import { createGatewayRoute, createHealthRoute, startHttpServer } from '@hubless/mirror'
import { holds } from '@hubless/registry'
import { isAlive, readDaemonFile, removeDaemonFile, writeDaemonFile } from './daemon-file.ts'
import { startMemoryTrim } from './memory-trim.ts'
import { createOperationHandler } from '../local-api/handler.ts'
import { startLocalApi } from '../local-api/server.ts'
import { DaemonRunningError } from '../errors.ts'
import { openServices } from '../services.ts'
import type { HttpServer } from '@hubless/mirror'
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
  /** serves the public HTTP side (a mirror's); default `/healthz` and the trustless gateway */
  serveHttp?: (services: Services) => Promise<HttpServer>
  /**
   * when `http`'s port is taken, listen on a free port of the same host instead (a plain daemon
   * given no --http: a second one on the machine must not fail; daemon.json records the port)
   */
  httpFallback?: boolean
  /** HTTP trustless gateways content fetches fall back to */
  gateways?: string[]
  /** ms after a catalog change until the saved index is written (default: on stop only) */
  saveIndexAfter?: number
  /**
   * open the catalog beside the registry, not on first use: a mirror's HTTP side answers from it
   * at once, and its saved index loads while the registry opens
   */
  catalogAtStart?: boolean
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

  const services = await openServices(init.layout, {
    listen: init.listen,
    lan: init.lan,
    peers: init.peers.map(p => p.toString()),
    gateways: init.gateways,
    saveIndexAfter: init.saveIndexAfter
  })
  // awaited by the HTTP side, which throws its failure
  const catalogAtStart = init.catalogAtStart === true ? services.catalog() : undefined
  catalogAtStart?.catch(() => {})
  const lifetime = new AbortController()
  let http: HttpServer
  let localApi: LocalApi
  try {
    // the daemon replicates the registry with every connected peer from the start
    await services.registry()
    // and the witness log beside it (peers that know it replicate it; older ones never see it)
    await services.witnesses()
    await holds()({ registrar: services.node.libp2p, registry: await services.registry(), content: services.node.content }).start()
    // the public side never serves operations: they act with the node's keys (SECURITY.md)
    const routes = [createHealthRoute(services.node), createGatewayRoute(services.node)]
    http = init.serveHttp != null
      ? await init.serveHttp(services)
      : await startHttpServer(init.http, routes).catch(async (err: Error) => {
        if (init.httpFallback !== true || err.name !== 'PortInUseError') throw err
        const taken = init.http.port
        const server = await startHttpServer({ host: init.http.host, port: 0 }, routes)
        init.onNotice?.(`port ${taken} is in use (another daemon?): the HTTP side listens at ${server.url} instead`)
        return server
      })
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

  // what a burst (a catch-up, a restart's load) leaves behind goes back: V8's pooled pages where
  // Node exposes gc (a mirror, bin/runtime.js), the allocator's free pages everywhere it can
  const trim = startMemoryTrim()
  // a restart's load leaves its pooled pages and the saved index's text: returned when it ends
  if (trim != null) catalogAtStart?.then(async () => { await trim.lookNow() }, () => {})
  const httpServer = http
  const local = localApi
  return {
    services,
    peerId,
    multiaddrs: services.node.getMultiaddrs(),
    api: http.url,
    localApi: local.endpoint,
    async stop () {
      trim?.stop()
      lifetime.abort()
      await local.close()
      await httpServer.close()
      await services.stop()
      await removeDaemonFile(init.layout.daemonFile, process.pid)
    }
  }
}
