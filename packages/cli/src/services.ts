import { mkdir, open, readFile, rename } from 'node:fs/promises'
import { createNode } from '@hubless/net'
import { createCatalog, createWitnessIndex } from '@hubless/query'
import { createKeyStore, createMediaLog, createRegistry, createWitnessLog } from '@hubless/registry'
import { logger } from '@libp2p/logger'
import { markRegistryClean, markRegistryOpen } from './registry-state.ts'
import { createTrustRoots } from './trust-roots.ts'
import type { DataDirLayout } from './data-dir.ts'
import type { TrustRoots } from './trust-roots.ts'
import type { HublessNode } from '@hubless/net'
import type { Catalog, WitnessIndex } from '@hubless/query'
import type { KeyStore, PublisherKey, Registry } from '@hubless/registry'
import type { AbortOptions } from '@libp2p/interface'

const log = logger('hubless:cli:services')

/**
 * A data dir's catalog runs for months beside a registry that grows by every nightly: it keeps
 * the newest three releases per app, key, channel and arch (yanked ones not counted) and each
 * key's first, and reads older ones from the registry when asked (`CatalogInit.retain`). A
 * daemon's, a mirror's and a command's run without a daemon alike: a command answers as the
 * daemon would, and resumes from the saved index the daemon left (a catalog that keeps more
 * would read the whole registry again, and leave an index of every release: at a million
 * records, `hubless trust list` took 47–51 s and left 419 MB instead of 29).
 */
export const CATALOG_RETAIN_RELEASES = 3

export interface ServicesInit {
  /** libp2p listen addresses; none for a short-lived command */
  listen?: string[]
  /** mDNS on the LAN */
  lan?: boolean
  /** peers to dial and keep connected (re-dialled whenever the connection drops) */
  peers?: string[]
  /** HTTP trustless gateways content fetches fall back to */
  gateways?: string[]
  /**
   * Write the saved index this many ms after the catalog changes (a daemon: a crash or SIGKILL
   * must not cost the next start a rebuild from the whole log). Without it, only on stop.
   */
  saveIndexAfter?: number
  /** the catalog keeps this many releases per app, key, channel and arch (`CatalogInit.retain`); default {@link CATALOG_RETAIN_RELEASES} */
  retainReleases?: number
}

/**
 * What operations work with: opened once by the daemon, or for one command by the CLI. The
 * registry and the catalog open on first use, because most commands need neither.
 */
export interface Services {
  readonly layout: DataDirLayout
  readonly node: HublessNode
  readonly keys: KeyStore
  readonly trustRoots: TrustRoots
  /** the publisher key of this data dir (`HUBLESS_KEY_PASSPHRASE` unlocks an encrypted one) */
  publisherKey (options?: AbortOptions): Promise<PublisherKey>
  registry (options?: AbortOptions): Promise<Registry>
  /** the catalog over the registry, evaluated from this data dir's trust roots */
  catalog (options?: AbortOptions): Promise<Catalog>
  /** the registry's witness log (mirrors' signed statements of what URLs served), opened on first use */
  witnesses (options?: AbortOptions): Promise<Registry>
  /** the media log (what images mirrors archived); only an archiving mirror opens it */
  media (options?: AbortOptions): Promise<Registry>
  /** the witness log's records, indexed, with this data dir's trusted witness keys; follows the log */
  witnessIndex (options?: AbortOptions): Promise<WitnessIndex>
  /** re-reads the trust roots into an open catalog */
  reloadTrustRoots (): Promise<void>
  stop (): Promise<void>
}

export async function openServices (layout: DataDirLayout, init: ServicesInit, options: AbortOptions = {}): Promise<Services> {
  await mkdir(layout.root, { recursive: true, mode: 0o700 })
  const node = await createNode({
    directory: layout.node,
    listen: init.listen ?? [],
    lan: init.lan ?? false,
    peers: init.peers ?? [],
    gateways: init.gateways ?? []
  }, options)
  const keys = createKeyStore({ directory: layout.keys })
  const trustRoots = createTrustRoots(layout.trustFile)
  let registry: Promise<Registry> | undefined
  let catalog: Promise<Catalog> | undefined
  let witnesses: Promise<Registry> | undefined
  let media: Promise<Registry> | undefined
  let witnessIndex: Promise<WitnessIndex> | undefined
  let indexSaver: IndexSaver | undefined
  /** the index file holds what the catalog held when it last had nothing unsaved */
  let indexWritten = false
  /** writes the catalog's index; whether the file holds it now */
  const writeIndex = async (opened: Catalog): Promise<boolean> => {
    try {
      await writeSavedIndex(layout.indexFile, opened.savePieces())
      indexWritten = true
      log('saved the index to %s', layout.indexFile)
    } catch (err) {
      indexWritten = false
      log.error('could not save the index: %e', err)
    }
    return indexWritten
  }
  /** the file lacks what the catalog holds: a rebuild, records or a position past it, a write that failed */
  const indexBehind = (opened: Catalog): boolean => !indexWritten || opened.unsaved

  const services: Services = {
    layout,
    node,
    keys,
    trustRoots,
    async publisherKey (opts) {
      return keys.load({ ...opts, passphrase: process.env.HUBLESS_KEY_PASSPHRASE })
    },
    async registry (opts) {
      registry ??= (async () => {
        // until stop() saves the index, the saved index may miss what this process appends or receives
        await markRegistryOpen(layout)
        return createRegistry({ node }, { directory: layout.registry }, opts)
      })()
      return registry
    },
    async catalog (opts) {
      catalog ??= (async () => {
        // the registry opens while the saved index is read and loaded: a restart answers sooner
        const opening = services.registry(opts)
        // its failure is thrown where it is awaited, below
        opening.catch(() => {})
        const [savedIndex, roots] = await Promise.all([readSavedIndex(layout.indexFile), trustRoots.list()])
        const retain = init.retainReleases ?? CATALOG_RETAIN_RELEASES
        // a saved index from another version or a torn write: rebuild from the log
        const unusable = (err: Error): undefined => { log.error('saved index unusable, rebuilding: %e', err) }
        const loaded = savedIndex == null ? undefined : await createCatalog({}, { roots, savedIndex, retain }, opts).catch(unusable)
        const source = await opening
        let opened = loaded == null ? undefined : await loaded.follow(source, opts).then(() => loaded, unusable)
        opened ??= await createCatalog({ source }, { roots, retain }, opts)
        indexWritten = opened === loaded
        if (init.saveIndexAfter != null) {
          indexSaver = createIndexSaver(opened, async () => { await writeIndex(opened) }, init.saveIndexAfter)
          // a rebuild, and what the source held past the saved index, are saved too; a restart that
          // brought nothing new is not (a million records' index is ~29 MB of text, and ~100 MB while written)
          if (indexBehind(opened)) indexSaver.changed()
        }
        return opened
      })()
      return catalog
    },
    async witnesses (opts) {
      witnesses ??= createWitnessLog({ node }, { directory: layout.registry }, opts)
      return witnesses
    },
    async media (opts) {
      media ??= createMediaLog({ node }, { directory: layout.registry }, opts)
      return media
    },
    async witnessIndex (opts) {
      witnessIndex ??= (async () => {
        const source = await services.witnesses(opts)
        const index = createWitnessIndex({ witnessKeys: await trustRoots.witnesses() })
        const take = (record: Parameters<WitnessIndex['add']>[0]): void => {
          try {
            index.add(record)
          } catch (err) {
            log.error('dropped a witness: %e', err)
          }
        }
        source.addEventListener('record', e => { take(e.detail) })
        for await (const record of source.records(opts)) take(record)
        return index
      })()
      return witnessIndex
    },
    async reloadTrustRoots () {
      if (catalog != null) {
        (await catalog).setRoots(await trustRoots.list())
      }
      if (witnessIndex != null) {
        (await witnessIndex).setWitnessKeys(await trustRoots.witnesses())
      }
    },
    async stop () {
      const openRegistry = await registry?.catch(() => undefined)
      // an open registry may hold records the saved index lacks: open the catalog to save them too
      if (openRegistry != null && catalog == null) await services.catalog().catch(err => { log.error('could not open the catalog to save the index: %e', err) })
      let saved = false
      if (catalog != null) {
        const opened = await catalog.catch(() => undefined)
        if (opened != null) {
          await indexSaver?.stop()
          // a command that read the catalog and took in nothing leaves the file as it was
          saved = !indexBehind(opened) || await writeIndex(opened)
          await opened.stop()
        }
      }
      if (media != null) {
        await (await media.catch(() => undefined))?.stop()
      }
      if (witnesses != null) {
        await (await witnesses.catch(() => undefined))?.stop()
      }
      if (openRegistry != null) {
        if (saved) await saveRegistryState(services, openRegistry).catch(err => { log.error('could not write the registry state: %e', err) })
        await openRegistry.stop()
      }
      await node.stop()
    }
  }
  return services
}

/** What `status` answers from while no node runs (registry-state.ts), written after the index */
async function saveRegistryState (services: Services, registry: Registry): Promise<void> {
  const status = await registry.status()
  await markRegistryClean(services.layout, {
    peerId: services.node.peerId.toString(),
    registry: {
      name: status.name,
      address: status.address,
      records: status.records,
      heads: status.heads,
      lastSync: status.lastSync == null ? undefined : new Date(status.lastSync).toISOString()
    },
    publisher: await services.publisherKey().then(k => k.did, () => undefined)
  })
}

async function readSavedIndex (path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch {
    return undefined
  }
}

interface IndexSaver {
  changed (): void
  stop (): Promise<void>
}

/**
 * Saves the catalog's index `delay` ms after its first unsaved change: a steady stream of records
 * is saved every `delay` ms rather than never.
 */
function createIndexSaver (catalog: Catalog, write: () => Promise<void>, delay: number): IndexSaver {
  let timer: ReturnType<typeof setTimeout> | undefined
  let writing: Promise<void> = Promise.resolve()
  let stopped = false
  const save = (): void => {
    timer = undefined
    writing = writing.then(async () => {
      if (!stopped) await write()
    })
  }
  const changed = (): void => {
    if (timer == null && !stopped) {
      timer = setTimeout(save, delay)
      timer.unref()
    }
  }
  catalog.events.addEventListener('changed', changed)
  return {
    changed,
    async stop () {
      stopped = true
      catalog.events.removeEventListener('changed', changed)
      clearTimeout(timer)
      await writing
    }
  }
}

/** Written beside and renamed, so a crash never leaves half an index; a piece at a time */
async function writeSavedIndex (path: string, pieces: Iterable<string>): Promise<void> {
  const file = await open(`${path}.tmp`, 'w')
  try {
    for (const piece of pieces) await file.write(piece)
  } finally {
    await file.close()
  }
  await rename(`${path}.tmp`, path)
}
