import { join } from 'node:path'
import { createMirror } from '@hubless/mirror'
import { startDaemon } from './run-daemon.ts'
import { importerKey } from '../operations/import-appimagehub.ts'
import type { DaemonInit, RunningDaemon } from './run-daemon.ts'
import type { Archiver, Mirror, MirrorInit, Pinner } from '@hubless/mirror'

export interface MirrorRunInit extends Omit<DaemonInit, 'serveHttp'>, Omit<MirrorInit, 'seed' | 'http' | 'gateways'> {
  /** an AppImageHub catalog imported on the first run (the embedded default catalog) */
  seed?: string
  /** each of the mirror's events as one JSON-able line for the operator's log (`event=seed:done …`) */
  onEvent?: (event: Record<string, unknown>) => void
}

export interface RunningMirror extends RunningDaemon {
  pinner: Pinner
  /** absent with `--archive none`, a pin policy other than `all`, or no publisher key to sign witnesses with */
  archiver?: Archiver
}

/**
 * `hubless mirror`: a daemon (node, registry, local API) whose public HTTP side is the mirror of
 * `@hubless/mirror`, seeded on the first run with the importer key of this data dir.
 */
export async function startMirror (init: MirrorRunInit): Promise<RunningMirror> {
  let mirror: Mirror | undefined
  const daemon = await startDaemon({
    ...init,
    catalogAtStart: true,
    serveHttp: async services => {
      const [registry, catalog, key, witnesses, witnessIndex] = await Promise.all([
        services.registry(), services.catalog(), services.publisherKey().catch(() => undefined), services.witnesses(), services.witnessIndex()
      ])
      // only a mirror that archives writes images; it replicates other mirrors' media records too
      const media = init.pin === 'all' && init.archive === 'all' ? await services.media() : undefined
      const seed = init.seed == null
        ? undefined
        : { file: init.seed, key: await importerKey(services), marker: join(services.layout.root, 'seeded-appimagehub') }
      mirror = await createMirror({ node: services.node, registry, catalog, key, witnesses, witnessIndex, media }, {
        ...init,
        seed,
        archiveDirectory: join(services.layout.root, 'archive'),
        pinnerState: services.layout.pinnerState,
        // the media records of mirrors trusted as witnesses stand in for an origin that fails this mirror
        archiving: { ...init.archiving, trustedMediaKeys: async () => await services.trustRoots.witnesses() }
      })
      const onEvent = init.onEvent
      if (onEvent != null) {
        mirror.events.addEventListener('seed', ({ detail: { phase, ...rest } }) => { onEvent({ event: `seed:${phase}`, ...rest }) })
        mirror.events.addEventListener('pin', ({ detail: { type, ...rest } }) => { onEvent({ event: `pin:${type}`, ...rest }) })
        mirror.events.addEventListener('heads:off', ({ detail }) => { onEvent({ event: 'heads:off', ...detail }) })
        mirror.events.addEventListener('archive', ({ detail: { type, ...rest } }) => { onEvent({ event: `archive:${type}`, ...rest }) })
        mirror.events.addEventListener('archive:off', ({ detail }) => { onEvent({ event: 'archive:off', ...detail }) })
      }
      return { url: mirror.url, close: async () => { await mirror?.stop() } }
    }
  })
  const started = mirror
  if (started == null) throw new Error('the daemon did not start the mirror')
  try {
    await started.start()
  } catch (err) {
    await daemon.stop()
    throw err
  }
  return {
    ...daemon,
    pinner: started.pinner,
    archiver: started.archiver
  }
}
