import { open, readFile, rename } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Channel } from '@hubless/registry'

/** A release as it was installed: enough to verify the file, roll back, and pin the signer */
export interface InstalledRelease {
  /** the release record's id */
  id: string
  version: string
  /** the key that signed the release */
  publisher: string
  sha256: string
  cid: string
  size: number
}

/** The release an install or update replaces, kept at `path` for `rollback` */
export function keptRelease ({ id, version, publisher, sha256, cid, size }: InstalledRelease, path: string): InstalledRelease & { path: string } {
  return { id, version, publisher, sha256, cid, size, path }
}

/** One app `hubless install` put on this machine */
export interface InstalledApp extends InstalledRelease {
  appId: string
  channel: Channel
  arch: string
  /** the AppImage, executable */
  path: string
  /** the `.desktop` entry written for it */
  desktopFile?: string
  /** the icon written into the hicolor theme */
  iconFile?: string
  /** ms since epoch */
  installedAt: number
  /** the mirror the catalog was read from at install; updates read it again */
  mirror?: string
  gateways?: string[]
  /** the version before the last update, its file kept beside for `rollback` until the next update */
  previous?: InstalledRelease & { path: string }
}

interface InstalledFile {
  version: 1
  apps: Record<string, InstalledApp>
}

/**
 * The list of installed apps, a JSON file in the data dir. Each change is written to a file
 * beside it, flushed and renamed over it, so a crash leaves the old list or the new one. Changes
 * are serialised within a process (the daemon runs operations concurrently).
 */
export interface InstalledApps {
  list (): Promise<InstalledApp[]>
  get (appId: string): Promise<InstalledApp | undefined>
  /** reads, changes and writes the list; `change` returns the app's new entry, or undefined to remove it */
  update (appId: string, change: (current: InstalledApp | undefined) => InstalledApp | undefined): Promise<void>
}

const queues = new Map<string, Promise<unknown>>()

export function installedApps (file: string): InstalledApps {
  const read = async (): Promise<InstalledFile> => {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, apps: {} }
      throw err
    }
    const parsed = JSON.parse(text) as InstalledFile
    return { version: 1, apps: parsed.apps ?? {} }
  }
  return {
    async list () {
      return Object.values((await read()).apps).sort((a, b) => a.appId.localeCompare(b.appId))
    },
    async get (appId) {
      return (await read()).apps[appId]
    },
    async update (appId, change) {
      const previous = queues.get(file) ?? Promise.resolve()
      const next = previous.catch(() => {}).then(async () => {
        const state = await read()
        const entry = change(state.apps[appId])
        if (entry == null) delete state.apps[appId]
        else state.apps[appId] = entry
        await writeAtomically(file, `${JSON.stringify(state, null, 2)}\n`)
      })
      queues.set(file, next)
      await next
    }
  }
}

/** Writes beside, flushes, renames over and flushes the directory: the old content or the new, never half */
export async function writeAtomically (file: string, text: string | Uint8Array): Promise<void> {
  const tmp = `${file}.tmp`
  const handle = await open(tmp, 'w', 0o600)
  try {
    await handle.writeFile(text)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(tmp, file)
  await syncDirectory(dirname(file))
}

export async function syncDirectory (dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } catch {
    // some file systems refuse fsync on a directory; the rename is still atomic
  } finally {
    await handle.close()
  }
}
