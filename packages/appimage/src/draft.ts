import type { AppStreamRelease, ContentRating } from './appstream.ts'
import type { FoundDesktopEntry, FoundIcon, FoundMetainfo } from './contents.ts'
import type { UpdateInformation } from './update-info.ts'

/**
 * What an AppImage says about itself, shaped for a hubless release record: the author reviews it
 * and `hubless publish` signs it. Optional fields are omitted, never undefined.
 */
export interface ReleaseDraft {
  /** AppStream component id, reverse DNS (`org.kde.krita`) */
  appId: string
  /** true when the image declares no AppStream id and `appId` was made up from other facts */
  derivedAppId: boolean
  /** where `appId` came from */
  appIdSource: 'metainfo' | 'desktop-file' | 'update-information' | 'name'
  name: string
  version?: string
  summary?: string
  /** plain text: paragraphs separated by blank lines, list items as "- item" */
  description?: string
  categories: string[]
  keywords: string[]
  /** SPDX expression (AppStream `project_license`) */
  license?: string
  developer?: string
  homepage?: string
  /** AppStream URLs by type (`homepage`, `bugtracker`, `donation`, …) */
  urls: Record<string, string>
  /** newest first */
  releases: AppStreamRelease[]
  contentRating?: ContentRating
  /** AppImage architecture name */
  architecture: string
  /** the raw `.upd_info` string */
  updateInformation?: string
  icon?: { path: string, mediaType: string, size: number }
  screenshots: string[]
  desktopFile?: string
  metainfoFile?: string
}

export interface DraftSources {
  architecture: string
  desktop?: FoundDesktopEntry
  metainfo?: FoundMetainfo
  icon?: FoundIcon
  updateInformation?: UpdateInformation
}

/** Lowercase, dotted, each segment [a-z0-9_-] and not starting with a digit, as AppStream ids want */
function idSegment (s: string): string {
  const seg = s.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '')
  if (seg === '') return 'app'
  return /^[0-9]/.test(seg) ? `_${seg}` : seg
}

export function looksReverseDns (id: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*){2,}$/.test(id)
}

function deriveAppId (src: DraftSources, name: string): { appId: string, source: ReleaseDraft['appIdSource'] } {
  const stem = src.desktop?.path.split('/').pop()?.replace(/\.desktop$/, '')
  if (stem !== undefined && looksReverseDns(stem)) return { appId: stem, source: 'desktop-file' }
  const u = src.updateInformation
  if (u?.user !== undefined && u.repo !== undefined && (u.transport === 'gh-releases-zsync' || u.transport === 'gl-releases-zsync')) {
    const host = u.transport === 'gh-releases-zsync' ? 'io.github' : 'io.gitlab'
    return { appId: `${host}.${idSegment(u.user).toLowerCase()}.${idSegment(u.repo)}`, source: 'update-information' }
  }
  return { appId: `io.hubless.derived.${idSegment(stem ?? name)}`, source: 'name' }
}

function compareReleases (a: AppStreamRelease, b: AppStreamRelease): number {
  if (a.date !== undefined && b.date !== undefined && a.date !== b.date) return a.date < b.date ? 1 : -1
  return 0
}

/** Merges metainfo (preferred), desktop entry and runtime facts into a release draft */
export function buildReleaseDraft (src: DraftSources): ReleaseDraft {
  const c = src.metainfo?.component
  const d = src.desktop?.entry
  const name = c?.name ?? d?.get('Name') ?? src.desktop?.path.replace(/\.desktop$/, '') ?? 'Unnamed AppImage'
  const releases = [...(c?.releases ?? [])].sort(compareReleases)
  const id = c?.id?.replace(/\.desktop$/, '')
  const derived = id !== undefined && id !== '' ? { appId: id, source: 'metainfo' as const } : deriveAppId(src, name)
  const draft: ReleaseDraft = {
    appId: derived.appId,
    derivedAppId: derived.source !== 'metainfo',
    appIdSource: derived.source,
    name,
    categories: c !== undefined && c.categories.length > 0 ? c.categories : d?.getList('Categories') ?? [],
    keywords: c !== undefined && c.keywords.length > 0 ? c.keywords : d?.getList('Keywords') ?? [],
    urls: c?.urls ?? {},
    releases,
    architecture: src.architecture,
    screenshots: c?.screenshots ?? []
  }
  const set = <K extends keyof ReleaseDraft>(key: K, value: ReleaseDraft[K] | undefined): void => {
    if (value !== undefined && value !== '') draft[key] = value
  }
  set('version', releases[0]?.version ?? d?.get('X-AppImage-Version'))
  set('summary', c?.summary ?? d?.get('Comment') ?? d?.get('GenericName'))
  set('description', c?.description)
  set('license', c?.projectLicense ?? d?.get('X-AppImage-License'))
  set('developer', c?.developer)
  set('homepage', c?.urls['homepage'])
  set('contentRating', c?.contentRating)
  set('updateInformation', src.updateInformation?.raw)
  if (src.icon !== undefined) draft.icon = { path: src.icon.path, mediaType: src.icon.mediaType, size: src.icon.bytes.byteLength }
  set('desktopFile', src.desktop?.path)
  set('metainfoFile', src.metainfo?.path)
  return draft
}
