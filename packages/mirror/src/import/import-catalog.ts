import { buildReleaseRecord, encodeCanonical, findPreviousRelease, recordIdOf } from '@hubless/registry'
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

  // the head of each (app, channel) chain of the importer's releases, by one pass, not a scan per draft
  const heads = new Map<string, string>()
  const chains = new Map<string, Array<Pick<SignedRecord<ReleaseRecord>, 'id' | 'record'>>>()
  for (const release of mine) {
    const chain = `${release.record.appId}\n${release.record.channel}`
    const releases = chains.get(chain)
    if (releases == null) chains.set(chain, [release])
    else releases.push(release)
  }
  for (const [chain, releases] of chains) {
    const { appId, channel } = releases[0]!.record
    const previous = findPreviousRelease(releases, { publisher: key.did, appId, channel })
    if (previous != null) heads.set(chain, previous.id)
  }

  const records: ReleaseRecord[] = []
  let unchanged = 0
  for (const draft of hub.drafts) {
    signal?.throwIfAborted()
    if (existing.has(draftFingerprint(draft))) {
      unchanged++
      continue
    }
    const chain = `${draft.appId}\n${draft.channel}`
    const record = buildReleaseRecord(draft, { publisher: key.did, previous: heads.get(chain) })
    heads.set(chain, await recordIdOf(encodeCanonical(record)))
    records.push(record)
  }
  // signed and appended in batches: one log write and one announcement per batch
  const total = hub.drafts.length
  onProgress?.({ phase: 'importing', done: unchanged, total, unit: 'items' })
  await registry.publishMany(records, key, {
    signal,
    onProgress: ({ done }) => { onProgress?.({ phase: 'importing', done: unchanged + done, total, unit: 'items' }) }
  })
  const appended = records.length
  return { importer: key.did, total: hub.total, appended, unchanged, skipped: hub.skipped, renamed: hub.renamed, defaults: hub.defaults }
}
