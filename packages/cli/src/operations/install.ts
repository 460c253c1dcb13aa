import { copyFile, link, mkdir, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { AlreadyInstalledError, NoPreviousVersionError, NotInstalledError } from '../errors.ts'
import { deliver } from '../install/deliver.ts'
import { integrate, refreshDesktopDatabase, removeIntegration } from '../install/desktop-integration.ts'
import { installedApps, keptRelease, syncDirectory } from '../install/installed.ts'
import { checkChannel, checkSigner, needsWitnesses, selectRelease } from '../install/select.ts'
import { catalogFor } from './catalog-source.ts'
import { witnessesFor } from './witness-source.ts'
import { defineOperation } from './operation.ts'
import type { InstalledApp } from '../install/installed.ts'
import type { Selection } from '../install/select.ts'
import type { OperationContext } from './operation.ts'
import type { TrustVerdict } from '@hubless/query'

/** The user's directories, resolved by the command (a daemon's environment is not the user's) */
export interface UserDirs {
  /** desktop entries: `$XDG_DATA_HOME/applications` */
  applications: string
  /** the icon theme root: `$XDG_DATA_HOME/icons` */
  icons: string
}

export interface SourceInput {
  allowUntrusted?: boolean
  gateways?: string[]
  /** read the catalog from this mirror over HTTP(S) and fetch through its gateway; default: the one the app was installed from */
  mirror?: string
}

export interface InstallInput extends UserDirs, SourceInput {
  appId: string
  channel?: string
  arch?: string
  /** where AppImages go (`~/Applications`) */
  dir: string
}

export interface TransferReport {
  /** bytes of blocks fetched from peers or gateways */
  bytesFetched: number
  /** bytes of blocks found locally (the installed version's, or an interrupted run's) */
  bytesReused: number
  sources: Record<string, number>
}

export interface InstallOutput extends TransferReport {
  app: InstalledApp
  trust: TrustVerdict
}

/** Installs the newest trusted release into `dir`, executable, with its desktop entry and icon */
export const install = defineOperation<InstallInput, InstallOutput, 'install'>('install', async (context, input) => {
  const { services, signal } = context
  const channel = checkChannel(input.channel)
  const store = installedApps(services.layout.installedFile)
  const existing = await store.get(input.appId)
  if (existing != null && await exists(existing.path)) {
    throw new AlreadyInstalledError(`${input.appId} ${existing.version} is installed at ${existing.path}; \`hubless update ${input.appId}\` updates it, \`hubless remove ${input.appId}\` removes it`)
  }
  const selection = await select(context, input.mirror, input.appId, { channel, arch: input.arch, allowUntrusted: input.allowUntrusted })
  await mkdir(input.dir, { recursive: true })
  const path = join(input.dir, `${input.appId.replace(/[^A-Za-z0-9._-]/g, '_')}.AppImage`)
  // a file already there (say, one downloaded by hand) is read for blocks it shares
  const delivery = await deliver(context, { content: selection.release.content, target: path, installed: path, gateways: gatewaysOf(input) })
  await rename(delivery.part, path)
  await syncDirectory(input.dir)
  const { release } = selection
  const integration = await integrate({ appId: input.appId, version: release.version, publisher: release.publisher, path }, input, signal)
  const app: InstalledApp = {
    appId: input.appId,
    channel: channel ?? 'release',
    arch: release.arch,
    id: release.id,
    version: release.version,
    publisher: release.publisher,
    sha256: delivery.sha256,
    cid: release.content.cid,
    size: delivery.size,
    path,
    ...integration,
    installedAt: Date.now(),
    ...(input.mirror != null ? { mirror: input.mirror } : {}),
    ...(input.gateways != null && input.gateways.length > 0 ? { gateways: input.gateways } : {})
  }
  await store.update(input.appId, () => app)
  return { app, trust: selection.trust, bytesFetched: delivery.bytesFetched, bytesReused: delivery.bytesReused, sources: delivery.sources }
})

export interface AvailableUpdate {
  id: string
  version: string
  publisher: string
  /** signed by another key than the installed release, with no rotation linking them: `update` refuses it */
  signerChanged: boolean
}

export interface ListOutput {
  apps: Array<InstalledApp & { update?: AvailableUpdate, error?: { name: string, message: string } }>
}

/** Installed apps, each with the catalog's newest trusted release for its channel and architecture when that is another one */
export const listInstalled = defineOperation<SourceInput, ListOutput, 'list-installed'>('list-installed', async (context, input) => {
  const installed = await installedApps(context.services.layout.installedFile).list()
  const apps: ListOutput['apps'] = []
  for (const [mirror, group] of byMirror(installed, input.mirror)) {
    const { catalog, done } = await catalogFor(context.services, mirror, context.signal)
    try {
      const witnesses = await witnessesOf(context, mirror, catalog, group)
      for (const app of group) {
        try {
          const selection = selectRelease(catalog, app.appId, { channel: app.channel, arch: app.arch, allowUntrusted: input.allowUntrusted, witnesses })
          apps.push(selection.release.id === app.id ? app : { ...app, update: availableUpdate(selection, app) })
        } catch (err) {
          apps.push({ ...app, error: { name: (err as Error).name, message: (err as Error).message } })
        }
      }
    } finally {
      await done()
    }
  }
  return { apps: apps.sort((a, b) => a.appId.localeCompare(b.appId)) }
})

export interface UpdateInput extends UserDirs, SourceInput {
  /** default: every installed app */
  appIds?: string[]
  /** only report what would be updated */
  check?: boolean
  /** take a release signed by a key no rotation links to the installed one */
  allowSignerChange?: boolean
}

export interface UpdateResult extends Partial<TransferReport> {
  appId: string
  /** `available`: only with `check` */
  status: 'updated' | 'current' | 'available' | 'failed'
  from: string
  to?: string
  publisher?: string
  path: string
  error?: { name: string, message: string }
}

export interface UpdateOutput {
  results: UpdateResult[]
}

/**
 * Updates installed apps to the catalog's newest trusted release of their channel and
 * architecture. Only the blocks that changed are fetched (see `deliver`); the new file replaces
 * the old one atomically, which is kept beside for `rollback` until the next update. An update
 * signed by an unlinked key is refused ({@link SignerChangedError}). With one app named, its
 * failure is thrown; with several, each result says how it went.
 */
export const update = defineOperation<UpdateInput, UpdateOutput, 'update'>('update', async (context, input) => {
  const store = installedApps(context.services.layout.installedFile)
  const all = await store.list()
  const wanted = input.appIds != null && input.appIds.length > 0 ? input.appIds : all.map(a => a.appId)
  const apps = wanted.map(appId => {
    const app = all.find(a => a.appId === appId)
    if (app == null) throw new NotInstalledError(`${appId} is not installed (\`hubless list\` shows what is; \`hubless install ${appId}\` installs it)`)
    return app
  })
  const results: UpdateResult[] = []
  for (const [mirror, group] of byMirror(apps, input.mirror)) {
    // the catalog's views are read first; the downloads need nothing more of it
    const { catalog, done } = await catalogFor(context.services, mirror, context.signal)
    const witnesses = await witnessesOf(context, mirror, catalog, group).catch(async (err: unknown) => { await done(); throw err })
    const selections = group.map(app => {
      try {
        return { app, selection: selectRelease(catalog, app.appId, { channel: app.channel, arch: app.arch, allowUntrusted: input.allowUntrusted, witnesses }) }
      } catch (err) {
        return { app, error: err as Error }
      }
    })
    await done()
    for (const { app, selection, error } of selections) {
      try {
        if (error != null) throw error
        results.push(await updateOne(context, app, selection!, input, mirror))
      } catch (err) {
        context.signal.throwIfAborted()
        if (input.appIds?.length === 1) throw err
        results.push({ appId: app.appId, status: 'failed', from: app.version, path: app.path, error: { name: (err as Error).name, message: (err as Error).message } })
      }
    }
  }
  return { results }
})

async function updateOne (context: OperationContext, app: InstalledApp, selection: Selection, input: UpdateInput, mirror: string | undefined): Promise<UpdateResult> {
  const { release } = selection
  const base = { appId: app.appId, from: app.version, path: app.path }
  if (release.id === app.id) return { ...base, status: 'current' }
  checkSigner(selection, app, input.allowSignerChange)
  if (input.check === true) return { ...base, status: 'available', to: release.version, publisher: release.publisher }

  const delivery = await deliver(context, { content: release.content, target: app.path, installed: app.path, installedCid: app.cid, gateways: gatewaysOf({ ...input, mirror, gateways: input.gateways ?? app.gateways }) })
  const kept = keptPath(app.path)
  await rm(kept, { force: true })
  const hadFile = await exists(app.path)
  if (hadFile) await linkOrCopy(app.path, kept)
  await rename(delivery.part, app.path)
  await syncDirectory(dirname(app.path))
  const integration = await integrate({ appId: app.appId, version: release.version, publisher: release.publisher, path: app.path }, input, context.signal)
  const updated: InstalledApp = {
    ...app,
    ...integration,
    id: release.id,
    version: release.version,
    publisher: release.publisher,
    sha256: delivery.sha256,
    cid: release.content.cid,
    size: delivery.size,
    installedAt: Date.now(),
    previous: hadFile ? keptRelease(app, kept) : undefined
  }
  await installedApps(context.services.layout.installedFile).update(app.appId, () => updated)
  return { ...base, status: 'updated', to: release.version, publisher: release.publisher, bytesFetched: delivery.bytesFetched, bytesReused: delivery.bytesReused, sources: delivery.sources }
}

export interface RollbackInput extends UserDirs {
  appId: string
}

export interface RollbackOutput {
  app: InstalledApp
  /** the version rolled away from, now kept as the previous one (a second rollback returns to it) */
  from: string
}

/** Swaps the installed file with the one kept by the last update, atomically: the path always holds one of the two */
export const rollback = defineOperation<RollbackInput, RollbackOutput, 'rollback'>('rollback', async (context, input) => {
  const store = installedApps(context.services.layout.installedFile)
  const app = await requireInstalled(input.appId, store)
  const previous = app.previous
  if (previous == null || !(await exists(previous.path))) {
    throw new NoPreviousVersionError(`${input.appId} ${app.version} has no previous version kept (one is kept from the last update until the next)`)
  }
  const swap = `${previous.path}.swap`
  await rm(swap, { force: true })
  await linkOrCopy(app.path, swap)
  await rename(previous.path, app.path)
  await rename(swap, previous.path)
  await syncDirectory(dirname(app.path))
  const integration = await integrate({ appId: app.appId, version: previous.version, publisher: previous.publisher, path: app.path }, input, context.signal)
  const rolledBack: InstalledApp = {
    ...app,
    ...integration,
    id: previous.id,
    version: previous.version,
    publisher: previous.publisher,
    sha256: previous.sha256,
    cid: previous.cid,
    size: previous.size,
    installedAt: Date.now(),
    previous: keptRelease(app, previous.path)
  }
  await store.update(app.appId, () => rolledBack)
  return { app: rolledBack, from: app.version }
})

export interface RemoveInput extends UserDirs {
  appId: string
  /** leave the AppImage (and the kept previous version) where it is */
  keepFile?: boolean
}

export interface RemoveOutput {
  appId: string
  version: string
  /** files deleted */
  removed: string[]
  /** the AppImage, when kept */
  kept?: string
}

/** Deletes the AppImage (unless `keepFile`), the previous version kept for rollback, the desktop entry, the icon and the record */
export const remove = defineOperation<RemoveInput, RemoveOutput, 'remove'>('remove', async (context, input) => {
  const store = installedApps(context.services.layout.installedFile)
  const app = await requireInstalled(input.appId, store)
  const removed: string[] = []
  // the previous version is hubless's own copy, for rollback: it goes even when the AppImage stays
  const files = [app.desktopFile, app.iconFile, app.previous?.path, ...(input.keepFile === true ? [] : [app.path])]
  for (const file of files) {
    if (file != null && await exists(file)) removed.push(file)
  }
  await removeIntegration(app, input, app.appId)
  if (input.keepFile !== true) await rm(app.path, { force: true })
  if (app.previous != null) await rm(app.previous.path, { force: true })
  await store.update(app.appId, () => undefined)
  await refreshDesktopDatabase(input.applications, context.signal)
  return { appId: app.appId, version: app.version, removed, ...(input.keepFile === true ? { kept: app.path } : {}) }
})

async function select (context: OperationContext, mirror: string | undefined, appId: string, options: Parameters<typeof selectRelease>[2]): Promise<Selection> {
  const { catalog, done } = await catalogFor(context.services, mirror, context.signal)
  try {
    const witnesses = await witnessesOf(context, mirror, catalog, [{ appId, ...options }])
    return selectRelease(catalog, appId, { ...options, witnesses })
  } finally {
    await done()
  }
}

/** The witnesses, read only when an app's choice can depend on them (it has no author's release) */
async function witnessesOf (context: OperationContext, mirror: string | undefined, catalog: Parameters<typeof needsWitnesses>[0], apps: Array<{ appId: string, channel?: InstalledApp['channel'], arch?: string }>): Promise<Awaited<ReturnType<typeof witnessesFor>> | undefined> {
  if (!apps.some(app => needsWitnesses(catalog, app.appId, { channel: app.channel, arch: app.arch }))) return undefined
  return witnessesFor(context.services, mirror, context.signal)
}

async function requireInstalled (appId: string, store: ReturnType<typeof installedApps>): Promise<InstalledApp> {
  const app = await store.get(appId)
  if (app == null) throw new NotInstalledError(`${appId} is not installed (\`hubless list\` shows what is)`)
  return app
}

function availableUpdate (selection: Selection, app: InstalledApp): AvailableUpdate {
  const { release } = selection
  let signerChanged = false
  try {
    checkSigner(selection, app, false)
  } catch {
    signerChanged = true
  }
  return { id: release.id, version: release.version, publisher: release.publisher, signerChanged }
}

/** Apps grouped by the mirror their catalog is read from (`override` for all, else each one's own) */
function byMirror (apps: InstalledApp[], override: string | undefined): Map<string | undefined, InstalledApp[]> {
  const groups = new Map<string | undefined, InstalledApp[]>()
  for (const app of apps) {
    const mirror = override ?? app.mirror
    groups.set(mirror, [...(groups.get(mirror) ?? []), app])
  }
  return groups
}

function gatewaysOf (input: SourceInput): string[] {
  // a mirror serves the trustless gateway too
  return [...(input.gateways ?? []), ...(input.mirror != null ? [input.mirror] : [])]
}

/** The previous version, kept hidden beside the installed file */
function keptPath (path: string): string {
  return join(dirname(path), `.${basename(path)}.previous`)
}

async function linkOrCopy (from: string, to: string): Promise<void> {
  try {
    await link(from, to)
  } catch {
    await copyFile(from, to)
  }
}

async function exists (path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false)
}
