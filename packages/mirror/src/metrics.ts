import { Counter, Gauge, Registry as MetricsRegistry } from 'prom-client'
import { registerProcessMemoryMetrics } from './process-memory.ts'
import type { Route } from './http-server.ts'
import type { MirrorComponents } from './index.ts'
import type { Pinner } from './pinner.ts'

/**
 * Prometheus metrics at `/metrics` (prom-client, the de facto Node exporter): peers, records,
 * replication lag, pinned bytes, content fetched by source (p2p or HTTP gateways), HTTP gateway
 * requests served, failures, and the process's memory. Gauges are read when scraped, so they
 * never go stale.
 */
export interface MirrorMetrics {
  readonly route: Route
  /** where other parts of the mirror (the archiver) register their own metrics */
  readonly registry: MetricsRegistry
  fetched (source: 'p2p' | 'http', blocks: number): void
  served (kind: 'gateway' | 'api'): void
  failure (kind: 'pin' | 'fetch' | 'http' | 'rejected-record'): void
}

export function createMirrorMetrics (services: MirrorComponents, pinner: () => Pinner | undefined): MirrorMetrics {
  const registry = new MetricsRegistry()
  registerProcessMemoryMetrics(registry)
  const lastSync = { value: 0 }
  new Gauge({
    name: 'hubless_peers',
    help: 'libp2p peers connected now',
    registers: [registry],
    collect () { this.set(new Set(services.node.libp2p.getConnections().map(c => c.remotePeer.toString())).size) }
  })
  new Gauge({
    name: 'hubless_registry_records',
    help: 'records in the local registry log',
    registers: [registry],
    async collect () {
      const status = await services.registry.status()
      if (status.lastSync != null) lastSync.value = status.lastSync
      this.set(status.records)
    }
  })
  new Gauge({
    name: 'hubless_registry_replicating_peers',
    help: 'peers replicating the registry with this mirror',
    registers: [registry],
    async collect () { this.set((await services.registry.status()).peers.length) }
  })
  new Gauge({
    name: 'hubless_replication_lag_seconds',
    help: 'seconds since the last head exchange or replicated record (-1: never)',
    registers: [registry],
    collect () { this.set(lastSync.value === 0 ? -1 : (Date.now() - lastSync.value) / 1000) }
  })
  new Gauge({
    name: 'hubless_catalog_apps',
    help: 'apps in the catalog',
    registers: [registry],
    async collect () { this.set(services.catalog.size) }
  })
  new Gauge({
    name: 'hubless_pinned_bytes',
    help: 'bytes of release content pinned by policy',
    registers: [registry],
    collect () { this.set(pinner()?.status().pinnedBytes ?? 0) }
  })
  new Gauge({
    name: 'hubless_pinned_releases',
    help: 'releases whose content is pinned',
    registers: [registry],
    collect () { this.set(pinner()?.status().pinned ?? 0) }
  })
  new Gauge({
    name: 'hubless_missing_content',
    help: 'release content no peer or gateway could deliver',
    registers: [registry],
    collect () { this.set(pinner()?.status().missing.length ?? 0) }
  })
  const fetched = new Counter({ name: 'hubless_fetched_blocks_total', help: 'content blocks fetched, by source', labelNames: ['source'], registers: [registry] })
  const served = new Counter({ name: 'hubless_http_requests_served_total', help: 'HTTP requests served, by kind', labelNames: ['kind'], registers: [registry] })
  const failures = new Counter({ name: 'hubless_failures_total', help: 'failures, by kind', labelNames: ['kind'], registers: [registry] })

  return {
    registry,
    route: async (req, res, url) => {
      if (url.pathname !== '/metrics') return false
      const body = await registry.metrics()
      res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' })
      res.end(req.method === 'HEAD' ? undefined : body)
      return true
    },
    fetched (source, blocks) { fetched.inc({ source }, blocks) },
    served (kind) { served.inc({ kind }) },
    failure (kind) { failures.inc({ kind }) }
  }
}
