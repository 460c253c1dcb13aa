import { newestFirst, parseVersion } from '@hubless/query'
import { apiRelease, onePerRelease } from './api-mapping.ts'
import type { ApiReleasePage } from './api-types.ts'
import type { MirrorComponents } from './index.ts'
import type { ParsedRelease, ReleaseView } from '@hubless/query'
import type { ReleaseRecord, SignedRecord } from '@hubless/registry'
import type { AbortOptions } from '@libp2p/interface'

export interface ReleasePageQuery extends AbortOptions {
  offset: number
  limit: number
}

/**
 * Every release of an app's owner, newest first, read from the registry's record index: a
 * mirror's catalog holds the newest few per channel and arch (`CatalogInit.retain`), and this is
 * where the rest is. Each is judged as the app's view would show it (yanked, revoked).
 * Undefined when the catalog has no view of the app.
 */
export async function appReleases ({ registry, catalog }: Pick<MirrorComponents, 'registry' | 'catalog'>, appId: string, query: ReleasePageQuery): Promise<ApiReleasePage | undefined> {
  const app = catalog.app(appId)
  if (app == null) return undefined
  // each version parsed once, not at every comparison of the sort
  const found: Array<ParsedRelease & { view: ReleaseView }> = []
  for await (const signed of registry.find({ appId }, { signal: query.signal })) {
    if (signed.record.kind !== 'release') continue
    const judged = catalog.judge(signed as SignedRecord<ReleaseRecord>)
    if (judged?.owner === true) found.push({ id: signed.id, time: judged.view.time, parsed: parseVersion(judged.view.version), view: judged.view })
  }
  const releases = onePerRelease(found.sort(newestFirst).map(r => r.view))
  return {
    appId,
    total: releases.length,
    offset: query.offset,
    releases: releases.slice(query.offset, query.offset + query.limit).map(r => apiRelease(r, app.trust))
  }
}
