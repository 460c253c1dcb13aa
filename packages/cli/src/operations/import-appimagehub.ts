import { APPIMAGEHUB_SOURCE, importAppImageHub as importCatalog } from '@hubless/mirror'
import { createKeyStore } from '@hubless/registry'
import { defineOperation } from './operation.ts'
import type { ImportOutput } from '@hubless/mirror'
import type { Services } from '../services.ts'
import type { PublisherKey } from '@hubless/registry'

export type { ImportOutput }

/**
 * The key that signs imported records. It is kept apart from the publisher key, which is a
 * trust root: restated third-party data must never look trusted because this machine signed it.
 */
export async function importerKey (services: Pick<Services, 'layout'>): Promise<PublisherKey> {
  const store = createKeyStore({ directory: services.layout.keys, fileName: `importer-${APPIMAGEHUB_SOURCE}.key` })
  return await store.exists() ? store.load() : store.create()
}

/** Appends one imported release record per hub entry; entries already imported unchanged are skipped */
export const importAppImageHub = defineOperation<{ file: string }, ImportOutput, 'import-appimagehub'>('import-appimagehub', async ({ services, signal, onProgress }, input) => {
  const key = await importerKey(services)
  const registry = await services.registry({ signal })
  const catalog = await services.catalog({ signal })
  return await importCatalog({ registry, catalog }, { file: input.file, key }, { signal, onProgress })
})
