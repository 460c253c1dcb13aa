import { buildReleaseRecord, createKeyStore, findPreviousRelease } from '@hubless/registry'
import { readAppImageHubCatalog } from '../import/read-catalog.ts'
import { APPIMAGEHUB_SOURCE } from '../import/appimagehub.ts'
import { draftFingerprint, draftOfRecord } from '../import/fingerprint.ts'
import { defineOperation } from './operation.ts'
import type { ImportRename, ImportSkip } from '../import/appimagehub.ts'
import type { Services } from '../services.ts'
import type { PublisherKey, ReleaseRecord, SignedRecord } from '@hubless/registry'

export interface ImportOutput {
  /** did:key of the importing key (not one of your roots: endorse it to trust the import) */
  importer: string
  total: number
  /** records appended now */
  appended: number
  /** entries whose record is already in the registry */
  unchanged: number
  skipped: ImportSkip[]
  renamed: ImportRename[]
  defaults: { version: number, arch: number }
}

/**
 * The key that signs imported records. It is kept apart from the publisher key, which is a
 * trust root: restated third-party data must never look trusted because this machine signed it.
 */
export async function importerKey (services: Services): Promise<PublisherKey> {
  const store = createKeyStore({ directory: services.layout.keys, fileName: `importer-${APPIMAGEHUB_SOURCE}.key` })
  return await store.exists() ? store.load() : store.create()
}

/** Appends one imported release record per hub entry; entries already imported unchanged are skipped */
export const importAppImageHub = defineOperation<{ file: string }, ImportOutput, 'import-appimagehub'>('import-appimagehub', async ({ services, signal, onProgress }, input) => {
  const catalog = await readAppImageHubCatalog(input.file, { signal })
  const key = await importerKey(services)
  const registry = await services.registry({ signal })

  const existing = new Set<string>()
  const mine: Array<Pick<SignedRecord<ReleaseRecord>, 'id' | 'record'>> = []
  // the importer key's releases, from the catalog's index by key: no walk over the registry
  for (const release of (await services.catalog({ signal })).releases({ publisher: key.did })) {
    if (release.record.imported?.source === APPIMAGEHUB_SOURCE) {
      existing.add(draftFingerprint(draftOfRecord(release.record)))
      mine.push(release)
    }
  }

  let appended = 0
  let unchanged = 0
  let done = 0
  for (const draft of catalog.drafts) {
    signal.throwIfAborted()
    if (existing.has(draftFingerprint(draft))) {
      unchanged++
    } else {
      const previous = findPreviousRelease(mine, { publisher: key.did, appId: draft.appId, channel: draft.channel })
      const record = buildReleaseRecord(draft, { publisher: key.did, previous: previous?.id })
      mine.push(await registry.publish(record, key, { signal }) as SignedRecord<ReleaseRecord>)
      appended++
    }
    onProgress?.({ phase: 'importing', done: ++done, total: catalog.drafts.length, unit: 'items' })
  }
  return { importer: key.did, total: catalog.total, appended, unchanged, skipped: catalog.skipped, renamed: catalog.renamed, defaults: catalog.defaults }
})
