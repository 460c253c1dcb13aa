import { isValidAppId } from '@hubless/registry/records'

/**
 * App ids for imported catalog entries. The registry's validator is the authority
 * ({@link isValidAppId}: at least three dot-separated segments of letters, digits, `_` and `-`);
 * on top of it an *imported* id must follow the AppStream rule that no segment starts with a
 * digit, because an id like `python3.8.12` (really in the hub) is a file name, not reverse DNS.
 */
export function isImportableAppId (id: string): boolean {
  return isValidAppId(id) && id.split('.').every(segment => /^[A-Za-z_]/.test(segment))
}

/**
 * The id an entry declares in its AppStream metadata, normalised: older AppStream files named
 * desktop apps `org.example.App.desktop`; current AppStream drops that suffix.
 */
export function declaredAppId (appstreamId: unknown): string | undefined {
  if (typeof appstreamId !== 'string') return undefined
  const id = appstreamId.trim().replace(/\.desktop$/, '')
  return isImportableAppId(id) ? id : undefined
}

/**
 * One segment of a derived id: characters outside `[A-Za-z0-9_]` become `_` (AppStream's advice
 * for `-` too), and a leading digit gets a `_` in front, as AppStream recommends
 * (`4KWALL` → `_4KWALL`).
 */
export function idSegment (value: string): string {
  const s = value.replace(/[^A-Za-z0-9_]/g, '_').replace(/_+/g, '_')
  if (s === '' || s === '_') return 'app'
  return /^[0-9]/.test(s) ? `_${s}` : s
}

/** `io.github.<owner>.<repo>` for a GitHub `owner/repo` (owner lowercased: GitHub user names are case-insensitive) */
export function githubAppId (githubRepo: unknown): string | undefined {
  if (typeof githubRepo !== 'string') return undefined
  const match = /^([A-Za-z0-9-]{1,39})\/([A-Za-z0-9._-]{1,100})$/.exec(githubRepo.trim())
  if (match == null) return undefined
  const id = `io.github.${idSegment((match[1] ?? '').toLowerCase())}.${idSegment((match[2] ?? '').replace(/\.git$/, ''))}`
  return isImportableAppId(id) ? id : undefined
}

/** `org.appimagehub.<sanitized hub id>`: unique per hub entry, the fallback of last resort */
export function hubAppId (hubId: string): string {
  return `org.appimagehub.${idSegment(hubId)}`
}
