import { access, writeFile } from 'node:fs/promises'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { createHeadsAnnouncer } from '@hubless/registry'
import { TypedEventEmitter } from 'main-event'
import { apiAppDetail } from './api-mapping.ts'
import { createWitnessFeedRoute, registerArchiveMetrics } from './archive/archive-routes.ts'
import { startArchiver } from './archive/archiver.ts'
import { createFeedRoute } from './feed-route.ts'
import { createFileRoute } from './file-route.ts'
import { createGenerations } from './generations.ts'
import { createGatewayRoute, createHealthRoute } from './node-routes.ts'
import { sendJson, startHttpServer } from './http-server.ts'
import { importAppImageHub } from './import/import-catalog.ts'
import { createLatestRoute } from './latest-route.ts'
import { createLimiter } from './limiter.ts'
import { createMirrorMetrics } from './metrics.ts'
import { startPinner } from './pinner.ts'
import { createPublicApiRoute } from './public-api.ts'
import { createStorefrontRoute } from './storefront-route.ts'
import { releasedVersions, witnessFields } from './witness-mapping.ts'
import type { MediaLookup, MediaSource } from './media-mapping.ts'
import type { ApiAppDetail } from './api-types.ts'
import type { Archiver } from './archive/archiver.ts'
import type { Route } from './http-server.ts'
import type { Mirror, MirrorComponents, MirrorEvents, MirrorInit, MirrorSeed } from './index.ts'
import type { MirrorMetrics } from './metrics.ts'
import type { PinEvent, Pinner } from './pinner.ts'
import type { HeadsAnnouncer } from '@hubless/registry'

/**
 * The mirror's HTTP side listens as soon as it is created (`/readyz` says 503 until `start` has
 * seeded the catalog and started the pinner), so an operator sees it come up at once.
 */
export async function openMirror (components: MirrorComponents, init: MirrorInit): Promise<Mirror> {
  let pinner: Pinner | undefined
  let archiver: Archiver | undefined
  let ready = false
  let announcer: HeadsAnnouncer | undefined
  let baseUrl = init.publicUrl ?? ''
  const metrics = createMirrorMetrics(components, () => pinner)
  registerArchiveMetrics(metrics.registry, () => archiver)
  const generations = createGenerations(components)
  const limiter = createLimiter(init.expensive)
  const events = new TypedEventEmitter<MirrorEvents>()
  // the images this mirror archived, served in place of the URLs apps link to
  const media: MediaSource = { copyOf: url => archiver?.mediaCopy(url), count: () => archiver?.mediaCount() ?? 0 }

  const readyRoute: Route = async (_req, res, url) => {
    if (url.pathname !== '/readyz') return false
    sendJson(res, ready ? 200 : 503, { ready })
    return true
  }
  const counted = (route: Route, kind: 'gateway' | 'api'): Route => async (req, res, url) => {
    const answered = await route(req, res, url)
    if (answered) metrics.served(kind)
    return answered
  }
  const routes: Route[] = [
    createHealthRoute(components.node),
    readyRoute,
    metrics.route,
    ...(components.witnesses == null ? [] : [counted(createWitnessFeedRoute(components.witnesses), 'api')]),
    counted(createPublicApiRoute({
      services: components,
      generations,
      limiter,
      onBuild: init.onBuild,
      media,
      appExtra: async app => {
        const origins = (await archiver?.originsOf(app.appId))?.map(({ appId: _a, release: _r, ...o }) => o) ?? []
        return {
          ...(components.witnessIndex == null ? {} : witnessFields(components.witnessIndex, app, await releasedVersions(components.registry, components.witnessIndex, app))),
          ...(origins.length > 0 ? { origins } : {})
        }
      },
      status: async () => {
        const s = pinner?.status()
        return {
          pins: s == null ? null : { policy: s.policy, pinned: s.pinned, pinnedBytes: s.pinnedBytes, queued: s.queued, skipped: s.skipped, missing: s.missing },
          archive: await archiver?.status() ?? null
        }
      }
    }), 'api'),
    createFeedRoute({
      baseUrl: () => baseUrl,
      generation: async () => await generations.catalog() * 1_000_003 + media.count(),
      limiter,
      onBuild: () => init.onBuild?.('feed.json'),
      apps: async () => await allApps(components, media.copyOf)
    }),
    createStorefrontRoute(),
    counted(createLatestRoute({ catalog: async () => components.catalog, node: components.node }), 'gateway'),
    counted(createFileRoute(components.node), 'gateway'),
    createGatewayRoute(components.node)
  ]
  const http = await startHttpServer(init.http, routes, init.httpLimits)
  baseUrl = init.publicUrl ?? http.url

  return {
    url: http.url,
    events,
    get pinner () {
      if (pinner == null) throw new Error('the mirror has not started')
      return pinner
    },
    get archiver () {
      return archiver
    },
    async start (options = {}) {
      try {
        if (init.seed != null) await seed(components, init.seed, events, options.signal)
        pinner = await startPinner({
          services: components,
          policy: init.pin,
          channels: init.channels,
          maxBytes: init.maxBytes,
          gateways: init.gateways,
          stateFile: init.pinnerState,
          onEvent: event => {
            reportPin(event, metrics)
            events.safeDispatchEvent('pin', { detail: event })
          }
        })
        if (init.pin === 'all' && init.archive === 'all') archiver = await openArchiver(components, init, pinner, events)
        ready = true
      } catch (err) {
        await http.close()
        throw err
      }
      // readers that trust this mirror's key learn from these whether their view is fresh (SECURITY.md, indefinite freeze)
      const key = components.key
      if (key == null) {
        events.safeDispatchEvent('heads:off', { detail: { reason: 'no publisher key in the data dir (hubless init); not announcing signed heads' } })
      } else {
        announcer = createHeadsAnnouncer({ node: components.node, registry: components.registry }, { key, interval: init.headsInterval })
      }
    },
    async stop () {
      announcer?.stop()
      await archiver?.stop()
      await pinner?.stop()
      await http.close()
    }
  }
}

/** The archiver, when it can run: it signs witnesses with the mirror's key into the witness log */
async function openArchiver (components: MirrorComponents, init: MirrorInit, pinner: Pinner, events: TypedEventEmitter<MirrorEvents>): Promise<Archiver | undefined> {
  const { key, witnesses } = components
  if (key == null || witnesses == null || init.archiveDirectory == null) {
    const missing = key == null ? 'no key to sign witness records with (hubless init creates it)' : witnesses == null ? 'no witness log' : 'no directory for its state'
    events.safeDispatchEvent('archive:off', { detail: { reason: missing } })
    return undefined
  }
  return await startArchiver({ node: components.node, registry: components.registry, witnesses, key, media: components.media }, {
    ...init.archiving,
    directory: init.archiveDirectory,
    maxBytes: init.maxBytes,
    usedBytes: () => pinner.status().pinnedBytes,
    onEvent: event => { events.safeDispatchEvent('archive', { detail: event }) }
  })
}

/** Every app of the catalog, as the API's app pages show them, in name order */
async function allApps ({ catalog }: Pick<MirrorComponents, 'catalog'>, copyOf: MediaLookup): Promise<ApiAppDetail[]> {
  const results = catalog.search({ limit: 1000, facets: false, sort: 'name' })
  const all = [...results.hits]
  for (let offset = 1000; offset < results.total; offset += 1000) {
    all.push(...catalog.search({ limit: 1000, offset, facets: false, sort: 'name' }).hits)
  }
  const details: ApiAppDetail[] = []
  for (const [i, hit] of all.entries()) {
    const app = catalog.app(hit.appId)
    if (app != null) details.push(apiAppDetail(app, copyOf))
    // a few thousand apps take a few hundred ms: /healthz and cached answers go in between
    if (i % 200 === 199) await nextTurn()
  }
  return details
}

function reportPin (event: PinEvent, metrics: MirrorMetrics): void {
  if (event.type === 'pinned') {
    for (const [source, blocks] of Object.entries(event.sources)) {
      metrics.fetched(source === 'peers' ? 'p2p' : 'http', blocks)
    }
  } else if (event.type === 'missing') {
    metrics.failure('pin')
  }
}

/** Imports the seed catalog once: a marker file records that it happened */
async function seed (components: MirrorComponents, init: MirrorSeed, events: TypedEventEmitter<MirrorEvents>, signal?: AbortSignal): Promise<void> {
  if (await access(init.marker).then(() => true, () => false)) return
  events.safeDispatchEvent('seed', { detail: { phase: 'start', file: init.file } })
  const result = await importAppImageHub(components, { file: init.file, key: init.key }, { signal: AbortSignal.any([AbortSignal.timeout(10 * 60_000), ...(signal == null ? [] : [signal])]) })
  await writeFile(init.marker, JSON.stringify({ file: init.file, importer: result.importer, appended: result.appended, at: new Date().toISOString() }) + '\n')
  events.safeDispatchEvent('seed', { detail: { phase: 'done', file: init.file, importer: result.importer, appended: result.appended, unchanged: result.unchanged, skipped: result.skipped.length } })
}
