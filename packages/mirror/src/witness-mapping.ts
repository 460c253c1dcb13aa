import type { AppView, WitnessIndex, WitnessSummary } from '@hubless/query'

/** What `/api/v1/apps/{appId}` (and `hubless show`) add when mirrors witnessed an app's releases */
export interface AppWitnesses {
  /** by release id: how many mirrors witnessed it, whether they agree, conflicts, each witness */
  witnesses: Record<string, WitnessSummary>
  /** every disagreement on the bytes of one of the app's URLs at one version */
  witnessConflicts: ReturnType<WitnessIndex['conflicts']>
}

/**
 * What `/api/v1/apps/{appId}` adds: `witnesses`, by release id, for each of the app's releases
 * that mirrors witnessed (how many, whether they agree, conflicts, each witness), and
 * `witnessConflicts`, every disagreement on the bytes of one of its URLs at one version.
 * Trust in witnesses is the reader's: this mirror trusts the keys in its own data dir.
 */
export function appWitnesses (index: Pick<WitnessIndex, 'forRelease' | 'conflicts'>, app: AppView): AppWitnesses {
  const witnesses: Record<string, WitnessSummary> = {}
  for (const release of [...app.history, ...app.claimants.map(c => c.newest)]) {
    const summary = index.forRelease(release.id)
    if (summary != null) witnesses[release.id] = summary
  }
  const conflicts = index.conflicts(app.appId)
  return { witnesses, witnessConflicts: conflicts }
}

/** The fields an app page adds for its witnesses: none when no mirror witnessed any of its releases */
export function witnessFields (index: Pick<WitnessIndex, 'forRelease' | 'conflicts'>, app: AppView): Partial<AppWitnesses> {
  const found = appWitnesses(index, app)
  return Object.keys(found.witnesses).length > 0 || found.witnessConflicts.length > 0 ? found : {}
}
