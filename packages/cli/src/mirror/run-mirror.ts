import { access, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { createHeadsAnnouncer } from '@hubless/registry'
import { sendJson } from '../daemon/http-server.ts'
import { startDaemon } from '../daemon/run-daemon.ts'
import { importAppImageHub } from '../operations/import-appimagehub.ts'
import { apiAppDetail } from './api-mapping.ts'
import { createFeedRoute } from './feed-route.ts'
import { createFileRoute } from './file-route.ts'
import { createLatestRoute } from './latest-route.ts'
import { createGenerations } from './generations.ts'
import { createLimiter } from './limiter.ts'
import { createMirrorMetrics } from './metrics.ts'
import { startPinner } from './pinner.ts'
import { createPublicApiRoute } from './public-api.ts'
import { createStorefrontRoute } from './storefront-route.ts'
import type { ApiAppDetail } from './api-types.ts'
import type { LimiterInit } from './limiter.ts'
import type { DaemonInit, RunningDaemon } from '../daemon/run-daemon.ts'
import type { Route } from '../daemon/http-server.ts'
import type { Services } from '../services.ts'
import type { MirrorMetrics } from './metrics.ts'
import type { PinEvent, Pinner, PinPolicy } from './pinner.ts'
import type { Channel } from '@hubless/registry'
import { appWitnesses, createWitnessFeedRoute, registerArchiveMetrics } from './archive/archive-routes.ts'
import { startArchiver } from './archive/archiver.ts'
import type { Archiver, ArchiverInit } from './archive/archiver.ts'

export interface MirrorInit extends Omit<DaemonInit, 'routes'> {
  pin: PinPolicy
  channels?: Channel[]
  maxBytes?: number
  /** an AppImageHub catalog imported on the first run (the embedded default catalog) */
  seed?: string
  /** the mirror's public URL, for absolute links in /feed.json; default its HTTP address */
  publicUrl?: string
  /** one structured event (JSON-able) for the log */
  onEvent?: (event: Record<string, unknown>) => void
  /** ms between signed heads announcements (freshness for readers); default 30 000 */
  headsInterval?: number
  /** bounds on the expensive answers (feed builds, searches, record listings), shared by all of them */
  expensive?: LimiterInit
  /** called when the feed or an API answer is built rather than served from the cache */
  onBuild?: (what: string) => void
  /** with `pin: 'all'`, archive imported URL-only releases (`all`) or not (`none`, the default) */
  archive?: 'all' | 'none'
  /** the archiver's bounds and schedule (tests shorten them) */
  archiving?: Omit<ArchiverInit, 'services' | 'maxBytes' | 'usedBytes' | 'onEvent'>
}

export interface RunningMirror extends RunningDaemon {
  pinner: Pinner
  /** absent with `--archive none`, a pin policy other than `all`, or no publisher key to sign witnesses with */
  archiver?: Archiver
}

/**
 * A mirror is a daemon that also keeps content alive (the pinner), serves the public API,
 * `/feed.json`, the storefront, `/readyz` and `/metrics`, and can seed itself with the
 * AppImageHub catalog.
 */
export async function startMirror (init: MirrorInit): Promise<RunningMirror> {
  let pinner: Pinner | undefined
  let archiver: Archiver | undefined
  let ready = false
  let metrics: MirrorMetrics | undefined
  let baseUrl = init.publicUrl ?? ''

  const routes = (services: Services): Route[] => {
    metrics = createMirrorMetrics(services, () => pinner)
    registerArchiveMetrics(metrics.registry, () => archiver)
    const m = metrics
    const generations = createGenerations(services)
    const limiter = createLimiter(init.expensive)
    const readyRoute: Route = async (_req, res, url) => {
      if (url.pathname !== '/readyz') return false
      sendJson(res, ready ? 200 : 503, { ready })
      return true
    }
    const counted = (route: Route, kind: 'gateway' | 'api'): Route => async (req, res, url) => {
      const answered = await route(req, res, url)
      if (answered) m.served(kind)
      return answered
    }
    return [
      readyRoute,
      m.route,
      counted(createWitnessFeedRoute(services), 'api'),
      counted(createPublicApiRoute({
        services,
        generations,
        limiter,
        onBuild: init.onBuild,
        appExtra: async app => appWitnesses(await services.witnessIndex(), app),
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
        generation: generations.catalog,
        limiter,
        onBuild: () => init.onBuild?.('feed.json'),
        apps: async () => {
          const catalog = await services.catalog()
          const results = catalog.search({ limit: 1000, facets: false, sort: 'name' })
          const all = [...results.hits]
          for (let offset = 1000; offset < results.total; offset += 1000) {
            all.push(...catalog.search({ limit: 1000, offset, facets: false, sort: 'name' }).hits)
          }
          const details: ApiAppDetail[] = []
          for (const [i, hit] of all.entries()) {
            const app = catalog.app(hit.appId)
            if (app != null) details.push(apiAppDetail(app))
            // a few thousand apps take a few hundred ms: /healthz and cached answers go in between
            if (i % 200 === 199) await nextTurn()
          }
          return details
        }
      }),
      createStorefrontRoute(),
      counted(createLatestRoute({ catalog: async () => services.catalog(), node: services.node }), 'gateway'),
      counted(createFileRoute(services.node), 'gateway')
    ]
  }

  const daemon = await startDaemon({ ...init, routes })
  const { services } = daemon
  baseUrl = init.publicUrl ?? daemon.api

  try {
    if (init.seed != null) {
      await seed(services, init.seed, init.onEvent)
    }
    pinner = await startPinner({
      services,
      policy: init.pin,
      channels: init.channels,
      maxBytes: init.maxBytes,
      gateways: init.gateways,
      onEvent: event => {
        reportPin(event, metrics)
        init.onEvent?.({ event: `pin:${event.type}`, ...event })
      }
    })
    await services.catalog()
    if (init.pin === 'all' && init.archive === 'all') {
      const pins = pinner
      archiver = await startArchiver({
        ...init.archiving,
        services,
        maxBytes: init.maxBytes,
        usedBytes: () => pins.status().pinnedBytes,
        onEvent: event => { init.onEvent?.({ ...event, event: `archive:${event.type}` }) }
      }).catch(err => {
        init.onEvent?.({ event: 'archive:off', reason: `${(err as Error).name}: ${(err as Error).message} (hubless init creates the key that signs witness records)` })
        return undefined
      })
    }
    ready = true
  } catch (err) {
    await daemon.stop()
    throw err
  }

  // readers that trust this mirror's key learn from these whether their view is fresh (SECURITY.md, indefinite freeze)
  const key = await services.publisherKey().catch(() => undefined)
  const announcer = key == null
    ? undefined
    : createHeadsAnnouncer({ node: services.node, registry: await services.registry() }, { key, interval: init.headsInterval })
  if (key == null) init.onEvent?.({ event: 'heads:off', reason: 'no publisher key in the data dir (hubless init); not announcing signed heads' })
  const pinning = pinner
  return {
    ...daemon,
    pinner: pinning,
    archiver,
    async stop () {
      announcer?.stop()
      await archiver?.stop()
      await pinning.stop()
      await daemon.stop()
    }
  }
}

function reportPin (event: PinEvent, metrics: MirrorMetrics | undefined): void {
  if (metrics == null) return
  if (event.type === 'pinned') {
    for (const [source, blocks] of Object.entries(event.sources)) {
      metrics.fetched(source === 'peers' ? 'p2p' : 'http', blocks)
    }
  } else if (event.type === 'missing') {
    metrics.failure('pin')
  }
}

/** Imports the seed catalog once per data dir: a marker file records that it happened */
async function seed (services: Services, file: string, onEvent: MirrorInit['onEvent']): Promise<void> {
  const marker = join(services.layout.root, 'seeded-appimagehub')
  if (await access(marker).then(() => true, () => false)) return
  onEvent?.({ event: 'seed:start', file })
  const result = await importAppImageHub.run({ services, signal: AbortSignal.timeout(10 * 60_000) }, { file })
  await writeFile(marker, JSON.stringify({ file, importer: result.importer, appended: result.appended, at: new Date().toISOString() }) + '\n')
  onEvent?.({ event: 'seed:done', importer: result.importer, appended: result.appended, unchanged: result.unchanged, skipped: result.skipped.length })
}
