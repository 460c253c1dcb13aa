import type { AppView, TrackedVersion, WitnessIndex, WitnessSummary } from '@hubless/query'
import type { Registry } from '@hubless/registry'

/** the index as the mapping reads it (`tracked` is optional: an index without it shows no tracked versions) */
export type WitnessReader = Pick<WitnessIndex, 'forRelease' | 'conflicts'> & Partial<Pick<WitnessIndex, 'tracked'>>

/** What `/api/v1/apps/{appId}` (and `hubless show`) add when mirrors witnessed an app's releases */
export interface AppWitnesses {
  /** by release id: how many mirrors witnessed it, whether they agree, conflicts, each witness */
  witnesses: Record<string, WitnessSummary>
  /** every disagreement on the bytes of one of the app's URLs at one version */
  witnessConflicts: ReturnType<WitnessIndex['conflicts']>
  /** versions mirrors witnessed upstream that none of the app's release records names, newest first */
  trackedVersions: Array<TrackedVersion & { download?: string }>
}

/**
 * What `/api/v1/apps/{appId}` adds: `witnesses`, by release id, for each of the app's releases
 * that mirrors witnessed (how many, whether they agree, conflicts, each witness),
 * `witnessConflicts`, every disagreement on the bytes of one of its URLs at one version, and
 * `trackedVersions`, versions mirrors witnessed upstream that no release record names.
 * Trust in witnesses is the reader's: this mirror trusts the keys in its own data dir.
 */
export function appWitnesses (index: WitnessReader, app: AppView, released?: Set<string>): AppWitnesses {
  const witnesses: Record<string, WitnessSummary> = {}
  for (const release of [...app.history, ...app.claimants.map(c => c.newest)]) {
    const summary = index.forRelease(release.id)
    if (summary != null) witnesses[release.id] = summary
  }
  const conflicts = index.conflicts(app.appId)
  // a version a release record names is that release (its witnesses are above), not a tracked one
  const named = released ?? new Set(app.history.map(versionKey))
  const trackedVersions = (index.tracked?.(app.appId) ?? []).filter(t => !named.has(versionKey(t))).map(t => {
    // the witnessed file through this mirror's gateway, when the witnesses agree on it (checked by CID on the way)
    const first = t.witnesses[0]
    if (!t.agree || first == null) return t
    const filename = `${app.appId}-${t.version}-${t.arch}.AppImage`.replace(/[^A-Za-z0-9._-]/g, '_')
    return { ...t, download: `/ipfs/${first.cid}?filename=${encodeURIComponent(filename)}&download=true` }
  })
  return { witnesses, witnessConflicts: conflicts, trackedVersions }
}

/**
 * The version and arch of every release record of the app, read from the registry, where the
 * view keeps part of its history (a bounded catalog) and mirrors tracked versions upstream:
 * without them, a release dropped from the kept history would show as a tracked version no
 * release names. `undefined` where the view's history says it all.
 */
export async function releasedVersions (registry: Pick<Registry, 'find'>, index: WitnessReader, app: AppView, options?: { signal?: AbortSignal }): Promise<Set<string> | undefined> {
  if (app.historyPartial !== true || (index.tracked?.(app.appId) ?? []).length === 0) return undefined
  const released = new Set<string>()
  for await (const signed of registry.find({ appId: app.appId }, options)) {
    if (signed.record.kind === 'release') released.add(versionKey(signed.record))
  }
  return released
}

function versionKey (release: { version: string, arch: string }): string {
  return `${release.version}\n${release.arch}`
}

/** The fields an app page adds for its witnesses: none when no mirror witnessed any of its releases */
export function witnessFields (index: WitnessReader, app: AppView, released?: Set<string>): Partial<AppWitnesses> {
  const found = appWitnesses(index, app, released)
  if (Object.keys(found.witnesses).length === 0 && found.witnessConflicts.length === 0 && found.trackedVersions.length === 0) return {}
  const { trackedVersions, ...rest } = found
  return trackedVersions.length > 0 ? found : rest
}
