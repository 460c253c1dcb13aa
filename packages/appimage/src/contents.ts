import { logger } from '@libp2p/logger'
import { type AppStreamComponent, parseAppStream } from './appstream.ts'
import { type DesktopEntry, parseDesktopEntry } from './desktop-entry.ts'
import type { Squashfs, SquashfsEntry } from './squashfs/index.ts'
import type { AbortOptions } from './types.ts'

const log = logger('hubless:appimage:contents')
const MAX_METADATA_FILE = 4 * 1024 * 1024
const MAX_ICON = 8 * 1024 * 1024

export interface FoundDesktopEntry {
  /** path in the image */
  path: string
  entry: DesktopEntry
}

export interface FoundMetainfo {
  path: string
  component: AppStreamComponent
}

export interface FoundIcon {
  /** path the icon was found under (before following symlinks) */
  path: string
  bytes: Uint8Array
  mediaType: 'image/png' | 'image/svg+xml' | 'image/x-xpixmap' | 'application/octet-stream'
}

const text = new TextDecoder()


async function tryReaddir (fs: Squashfs, path: string, options?: AbortOptions): Promise<SquashfsEntry[]> {
  try {
    return await fs.readdir(path, options)
  } catch (err) {
    if ((err as Error).name === 'FileNotFoundError' || (err as Error).name === 'NotAFileError') return []
    throw err
  }
}

/** The `.desktop` file at the image root (AppImages carry exactly one) */
export async function findDesktopEntry (fs: Squashfs, options?: AbortOptions): Promise<FoundDesktopEntry | undefined> {
  const candidates = (await tryReaddir(fs, '', options))
    .filter(e => e.name.endsWith('.desktop') && (e.type === 'file' || e.type === 'symlink'))
    .sort((a, b) => a.name.localeCompare(b.name))
  for (const candidate of candidates) {
    // a dangling or looping symlink is skipped like a missing file
    const bytes = await tryRead(fs, candidate.path, MAX_METADATA_FILE, options)
    if (bytes !== undefined) return { path: candidate.path, entry: parseDesktopEntry(text.decode(bytes)) }
  }
  return undefined
}

/** The AppStream metainfo, preferring the one whose id or launchable matches `desktopFile` */
export async function findMetainfo (fs: Squashfs, desktopFile: string | undefined, options?: AbortOptions): Promise<FoundMetainfo | undefined> {
  const files = [
    ...(await tryReaddir(fs, 'usr/share/metainfo', options)),
    ...(await tryReaddir(fs, 'usr/share/appdata', options))
  ].filter(e => /\.(metainfo|appdata)\.xml$/.test(e.name))
  const desktopId = desktopFile?.split('/').pop()
  const stem = desktopId?.replace(/\.desktop$/, '')
  files.sort((a, b) => {
    const score = (e: SquashfsEntry): number => (stem !== undefined && e.name.startsWith(`${stem}.`) ? 0 : 1)
    return score(a) - score(b) || a.name.localeCompare(b.name)
  })
  let firstParsed: FoundMetainfo | undefined
  for (const f of files) {
    let component: AppStreamComponent
    try {
      component = parseAppStream(text.decode(await fs.readFile(f.path, { ...options, maxSize: MAX_METADATA_FILE })))
    } catch (err) {
      if ((err as Error).name !== 'MetadataParseError') throw err
      log('skipping unparseable metainfo %s: %s', f.path, (err as Error).message)
      continue
    }
    const found = { path: f.path, component }
    if (desktopId === undefined || component.desktopIds.includes(desktopId) || component.id === stem || component.id === desktopId) return found
    firstParsed ??= found
  }
  return firstParsed
}

export function iconMediaType (bytes: Uint8Array): FoundIcon['mediaType'] {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'image/png'
  const head = text.decode(bytes.subarray(0, 512)).trimStart()
  if (head.startsWith('/* XPM */')) return 'image/x-xpixmap'
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg')) || head.includes('<svg')) return 'image/svg+xml'
  return 'application/octet-stream'
}

const ICON_SIZES = ['512x512', '256x256', 'scalable', '128x128', '96x96', '64x64', '48x48', '32x32']
const ICON_EXTENSIONS = ['.png', '.svg', '.xpm']

async function tryRead (fs: Squashfs, path: string, maxSize: number, options?: AbortOptions): Promise<Uint8Array | undefined> {
  try {
    return await fs.readFile(path, { ...options, maxSize })
  } catch (err) {
    const name = (err as Error).name
    if (name === 'FileNotFoundError' || name === 'NotAFileError' || name === 'SymlinkLoopError') return undefined
    throw err
  }
}

/** The icon: `.DirIcon` (following symlinks), else the `Icon=` name at the root or under usr/share/icons */
export async function findIcon (fs: Squashfs, iconName: string | undefined, options?: AbortOptions): Promise<FoundIcon | undefined> {
  const candidates = ['.DirIcon']
  if (iconName !== undefined && iconName !== '' && !iconName.includes('..')) {
    const name = iconName.replace(/^\/+/, '')
    const hasExtension = ICON_EXTENSIONS.some(e => name.endsWith(e))
    const names = hasExtension ? [name] : ICON_EXTENSIONS.map(e => name + e)
    candidates.push(...names)
    for (const size of ICON_SIZES) {
      for (const n of names) candidates.push(`usr/share/icons/hicolor/${size}/apps/${n}`)
    }
    candidates.push(...names.map(n => `usr/share/pixmaps/${n}`))
  }
  for (const path of candidates) {
    const bytes = await tryRead(fs, path, MAX_ICON, options)
    if (bytes !== undefined && bytes.byteLength > 0) return { path, bytes, mediaType: iconMediaType(bytes) }
  }
  return undefined
}
