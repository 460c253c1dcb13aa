import { spawn } from 'node:child_process'
import { constants } from 'node:fs'
import { access, mkdir, rm } from 'node:fs/promises'
import { delimiter, join } from 'node:path'
import { openAppImage, readAppImageMetadata } from '@hubless/appimage'
import { logger } from '@libp2p/logger'
import { writeAtomically } from './installed.ts'
import type { FoundIcon } from '@hubless/appimage'

const log = logger('hubless:cli:desktop-integration')

/** Where desktop entries and icons go: `$XDG_DATA_HOME/applications` and `$XDG_DATA_HOME/icons` */
export interface IntegrationDirs {
  applications: string
  icons: string
}

export interface Integration {
  desktopFile?: string
  iconFile?: string
}

export interface IntegrateInit {
  appId: string
  version: string
  publisher: string
  /** the installed AppImage */
  path: string
}

/** hicolor's fixed sizes; an icon of another size goes to the nearest one */
const HICOLOR_SIZES = [16, 22, 24, 32, 48, 64, 96, 128, 256, 512]

/** The name desktop entries and icons of an installed app are written under (one per app id) */
export function integrationName (appId: string): string {
  return `hubless-${appId.replace(/[^A-Za-z0-9._-]/g, '_')}`
}

/**
 * Reads the AppImage's own desktop entry and icon and writes them for the desktop: the entry's
 * `Exec=` (and each action's) runs the installed file, `TryExec=` names it, `Icon=` the icon put
 * into the hicolor theme. What an earlier version wrote and this one does not replace is removed.
 */
export async function integrate (init: IntegrateInit, dirs: IntegrationDirs, signal: AbortSignal): Promise<Integration> {
  const appImage = await openAppImage(init.path, { signal })
  const metadata = await readAppImageMetadata(appImage, { signal }).finally(async () => { await appImage.close() })
  const name = integrationName(init.appId)
  await removeIntegration({ iconFile: undefined, desktopFile: undefined }, dirs, init.appId)
  let iconFile: string | undefined
  if (metadata.icon != null) {
    iconFile = iconPath(dirs.icons, name, metadata.icon)
    await mkdir(join(iconFile, '..'), { recursive: true })
    await writeAtomically(iconFile, metadata.icon.bytes)
  }
  if (metadata.desktop == null) {
    return { iconFile }
  }
  const groups = metadata.desktop.entry.groups
  const lines: string[] = []
  for (const [group, values] of Object.entries(groups)) {
    if (lines.length > 0) lines.push('')
    lines.push(`[${group}]`)
    const rewritten: Record<string, string> = { ...values }
    if (rewritten.Exec != null) rewritten.Exec = execOf(init.path, rewritten.Exec)
    if (group === 'Desktop Entry') {
      if (iconFile != null) rewritten.Icon = name
      rewritten.TryExec = escapeValue(init.path)
      rewritten['X-AppImage-Version'] = escapeValue(init.version)
      rewritten['X-AppImage-Identifier'] = escapeValue(init.appId)
      rewritten['X-Hubless-Publisher'] = init.publisher
      delete rewritten['X-AppImage-Integrate']
    }
    for (const [key, value] of Object.entries(rewritten)) lines.push(`${key}=${value}`)
  }
  const desktopFile = join(dirs.applications, `${name}.desktop`)
  await mkdir(dirs.applications, { recursive: true })
  await writeAtomically(desktopFile, `${lines.join('\n')}\n`)
  await refreshDesktopDatabase(dirs.applications, signal)
  return { desktopFile, iconFile }
}

/** Removes what {@link integrate} wrote for an app (every icon size of its name, too) */
export async function removeIntegration (integration: Integration, dirs: IntegrationDirs, appId: string): Promise<void> {
  const name = integrationName(appId)
  const files = [integration.desktopFile, integration.iconFile]
  for (const size of HICOLOR_SIZES) {
    for (const ext of ['png', 'xpm']) files.push(join(dirs.icons, 'hicolor', `${size}x${size}`, 'apps', `${name}.${ext}`))
  }
  files.push(join(dirs.icons, 'hicolor', 'scalable', 'apps', `${name}.svg`))
  for (const file of files) {
    if (file != null) await rm(file, { force: true })
  }
}

/** Spawns `update-desktop-database DIR` where the tool exists; its absence or failure is not ours to report */
export async function refreshDesktopDatabase (applications: string, signal: AbortSignal): Promise<void> {
  const tool = await onPath('update-desktop-database')
  if (tool == null) return
  await new Promise<void>(resolve => {
    const child = spawn(tool, [applications], { stdio: 'ignore', signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]) })
    child.on('error', err => { log('update-desktop-database failed: %e', err); resolve() })
    child.on('close', () => { resolve() })
  })
}

async function onPath (command: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue
    const candidate = join(dir, command)
    try {
      await access(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  return undefined
}

function iconPath (icons: string, name: string, icon: FoundIcon): string {
  if (icon.mediaType === 'image/svg+xml') return join(icons, 'hicolor', 'scalable', 'apps', `${name}.svg`)
  const size = nearestSize(icon.mediaType === 'image/png' ? pngWidth(icon.bytes) : undefined)
  return join(icons, 'hicolor', `${size}x${size}`, 'apps', `${name}.${icon.mediaType === 'image/x-xpixmap' ? 'xpm' : 'png'}`)
}

function pngWidth (bytes: Uint8Array): number | undefined {
  if (bytes.byteLength < 24) return undefined
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(16)
}

function nearestSize (width: number | undefined): number {
  if (width == null || width === 0) return 256
  let best = HICOLOR_SIZES[0]!
  for (const size of HICOLOR_SIZES) {
    if (Math.abs(size - width) < Math.abs(best - width)) best = size
  }
  return best
}

/** `Exec=myapp --new %F` → `Exec="/home/u/Applications/x.AppImage" --new %F` (the first word replaced, arguments kept) */
function execOf (path: string, exec: string): string {
  const match = /^\s*("(?:[^"\\]|\\.)*"|\S+)(.*)$/.exec(exec)
  const rest = match?.[2] ?? ''
  return `${quoteExec(path)}${rest}`
}

/** Quotes a path for Exec= (the spec's quoting, then the string escape of `\`) */
function quoteExec (path: string): string {
  if (!/[\s"'\\><~|&;$*?#()`%]/.test(path)) return escapeValue(path)
  return escapeValue(`"${path.replace(/(["`$\\])/g, '\\$1')}"`).replace(/%/g, '%%')
}

function escapeValue (value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/\r/g, '\\r')
}
