import { buildReleaseRecord, findPreviousRelease } from '@hubless/registry'
import { APPIMAGEHUB_SOURCE } from './appimagehub.ts'
import { draftFingerprint, draftOfRecord } from './fingerprint.ts'
import { readAppImageHubCatalog } from './read-catalog.ts'
import type { ImportAppImageHubInit, ImportOutput, ImportComponents, ImportOptions } from '../index.ts'
import type { ReleaseRecord, SignedRecord } from '@hubless/registry'

/**
 * Appends one imported release record per hub entry, signed by the importer key; entries already
 * imported unchanged are skipped, so a second import of the same catalog appends nothing.
 */
export async function importAppImageHub ({ registry, catalog }: ImportComponents, init: ImportAppImageHubInit, options: ImportOptions = {}): Promise<ImportOutput> {
  const { signal, onProgress } = options
  const hub = await readAppImageHubCatalog(init.file, { signal })
  const key = init.key

  const existing = new Set<string>()
  const mine: Array<Pick<SignedRecord<ReleaseRecord>, 'id' | 'record'>> = []
  // the importer key's releases, from the catalog's index by key: no walk over the registry
  for (const release of catalog.releases({ publisher: key.did })) {
    if (release.record.imported?.source === APPIMAGEHUB_SOURCE) {
      existing.add(draftFingerprint(draftOfRecord(release.record)))
      mine.push(release)
    }
  }

  let appended = 0
  let unchanged = 0
  let done = 0
  for (const draft of hub.drafts) {
    signal?.throwIfAborted()
    if (existing.has(draftFingerprint(draft))) {
      unchanged++
    } else {
      const previous = findPreviousRelease(mine, { publisher: key.did, appId: draft.appId, channel: draft.channel })
      const record = buildReleaseRecord(draft, { publisher: key.did, previous: previous?.id })
      mine.push(await registry.publish(record, key, { signal }) as SignedRecord<ReleaseRecord>)
      appended++
    }
    onProgress?.({ phase: 'importing', done: ++done, total: hub.drafts.length, unit: 'items' })
  }
  return { importer: key.did, total: hub.total, appended, unchanged, skipped: hub.skipped, renamed: hub.renamed, defaults: hub.defaults }
}
