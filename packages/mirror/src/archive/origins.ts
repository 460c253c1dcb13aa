import { readFile, rename, writeFile } from 'node:fs/promises'

/**
 * - `alive`: the URL serves the bytes this mirror archived (or answered 304 to the question)
 * - `gone`: 404, 410 or no such host
 * - `changed`: the same URL serves other bytes than this mirror archived from it
 * - `failing`: anything else (5xx, timeouts, HTML, not an AppImage, too large, redirect loops)
 */
export type OriginState = 'alive' | 'gone' | 'changed' | 'failing'

export interface OriginCheck {
  /** ms since epoch */
  time: number
  state: OriginState
  /** the error's name and message when the check failed */
  error?: string
  sha256?: string
}

export interface ArchivedCopy {
  sha256: string
  /** hex SHA-1 (what `.zsync` headers name); absent in books written before tracking */
  sha1?: string
  size: number
  cid: string
  version: string
  /** the witness record this mirror signed */
  witness: string
  time: number
  /** the AppImage's update information, where tracking looks for new releases */
  updateInformation?: string
}

export interface OriginRecord {
  url: string
  appId: string
  /** the release record whose URL this is */
  release: string
  state: OriginState
  /** since when the state holds, ms */
  since: number
  lastChecked: number
  /** what this mirror archived from the URL first: still served from here whatever the origin does */
  archived?: ArchivedCopy
  /** the newest copy witnessed from the URL when it served a new version later (a "latest" URL); checks compare with it */
  latest?: ArchivedCopy
  etag?: string
  lastModified?: string
  /** Retry-After: not asked again before this, ms */
  retryAt?: number
  /** the last checks, oldest first */
  checks: OriginCheck[]
}

const KEPT_CHECKS = 20

/** Every origin check, kept in `file` (JSON, written beside and renamed) */
export interface OriginBook {
  get (url: string): OriginRecord | undefined
  all (): OriginRecord[]
  /** record a check of `url`; the state's `since` moves only when the state changes */
  check (base: Pick<OriginRecord, 'url' | 'appId' | 'release'>, check: OriginCheck, extra?: Partial<Pick<OriginRecord, 'archived' | 'latest' | 'etag' | 'lastModified' | 'retryAt'>>): OriginRecord
  save (): Promise<void>
}

export async function openOriginBook (file: string): Promise<OriginBook> {
  const origins = new Map<string, OriginRecord>()
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as { origins?: OriginRecord[] }
    for (const o of parsed.origins ?? []) if (typeof o?.url === 'string') origins.set(o.url, o)
  } catch {
    // none yet, or torn: checks start over (archived content stays pinned and witnessed)
  }
  let saving: Promise<void> = Promise.resolve()
  return {
    get: url => origins.get(url),
    all: () => [...origins.values()],
    check (base, check, extra = {}) {
      const before = origins.get(base.url)
      const record: OriginRecord = {
        ...before,
        ...base,
        state: check.state,
        since: before?.state === check.state ? before.since : check.time,
        lastChecked: check.time,
        checks: [...(before?.checks ?? []), check].slice(-KEPT_CHECKS)
      }
      if (extra.archived != null) record.archived = extra.archived
      if (extra.latest != null) record.latest = extra.latest
      if (extra.etag != null) record.etag = extra.etag
      if (extra.lastModified != null) record.lastModified = extra.lastModified
      if (extra.retryAt != null) record.retryAt = extra.retryAt
      else delete record.retryAt
      origins.set(base.url, record)
      return record
    },
    async save () {
      saving = saving.then(async () => {
        await writeFile(`${file}.tmp`, JSON.stringify({ origins: [...origins.values()] }) + '\n')
        await rename(`${file}.tmp`, file)
      })
      await saving
    }
  }
}
