import { recordToJSON } from '@hubless/registry'
import { Gauge } from 'prom-client'
import type { Route } from '../http-server.ts'
import type { Archiver } from './archiver.ts'
import type { Registry } from '@hubless/registry'
import type { Registry as MetricsRegistry } from 'prom-client'

/**
 * `GET /api/v1/witnesses`: every record of the witness log, one JSON record a line (the form of
 * `/api/v1/records`), each verified by the reader (`recordFromJSON`). A separate feed, so that
 * readers that do not know witness records never meet one in `/api/v1/records`.
 */
export function createWitnessFeedRoute (witnesses: Pick<Registry, 'records'>): Route {
  return async (req, res, url) => {
    if (url.pathname !== '/api/v1/witnesses') return false
    if (req.method !== 'GET' && req.method !== 'HEAD') return false
    const lines: string[] = []
    for await (const signed of witnesses.records()) lines.push(JSON.stringify(recordToJSON(signed)))
    const body = lines.length === 0 ? '' : lines.join('\n') + '\n'
    res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-cache', 'content-length': Buffer.byteLength(body) })
    res.end(req.method === 'HEAD' ? undefined : body)
    return true
  }
}

/** Archive gauges on the mirror's `/metrics`: files and bytes archived, images archived and failed, origins by state, and each origin's state since when */
export function registerArchiveMetrics (registry: MetricsRegistry, archiver: () => Archiver | undefined): void {
  new Gauge({
    name: 'hubless_archived_files',
    help: 'imported releases whose file this mirror fetched, verified, pinned and witnessed',
    registers: [registry],
    async collect () { this.set((await archiver()?.status())?.archived ?? 0) }
  })
  new Gauge({
    name: 'hubless_archived_bytes',
    help: 'bytes of archived files',
    registers: [registry],
    async collect () { this.set((await archiver()?.status())?.archivedBytes ?? 0) }
  })
  new Gauge({
    name: 'hubless_archived_images',
    help: 'icons and screenshots of imported apps this mirror archived (archived) or could not (failed: a web page, not an image, too large, gone, …)',
    labelNames: ['state'],
    registers: [registry],
    async collect () {
      const media = (await archiver()?.status())?.media
      this.set({ state: 'archived' }, media?.archived ?? 0)
      this.set({ state: 'failed' }, media?.failed.length ?? 0)
    }
  })
  new Gauge({
    name: 'hubless_origins',
    help: 'origin URLs of imported releases by their last check: alive, gone (404/410/no such host), changed (other bytes), failing',
    labelNames: ['state'],
    registers: [registry],
    async collect () {
      const status = await archiver()?.status()
      for (const state of ['alive', 'gone', 'changed', 'failing'] as const) this.set({ state }, status?.origins[state] ?? 0)
    }
  })
  new Gauge({
    name: 'hubless_origin_state_since_seconds',
    help: 'per origin URL: its state, since when (Unix seconds), and whether the file is still available from this mirror',
    labelNames: ['app', 'url', 'state', 'available_here'],
    registers: [registry],
    async collect () {
      this.reset()
      for (const o of (await archiver()?.status())?.checked ?? []) {
        this.set({ app: o.appId, url: o.url, state: o.state, available_here: String(o.archived?.availableHere ?? false) }, Math.round(Date.parse(o.since) / 1000))
      }
    }
  })
}
