import { readFile } from 'node:fs/promises'
import { mapAppImageHubCatalog } from './appimagehub.ts'
import { InvalidCatalogError } from '../errors.ts'
import type { AppImageHubImport } from './appimagehub.ts'

/** the hub's catalog is 1.2 MB; anything far larger is not that file */
const MAX_CATALOG_BYTES = 64 * 1024 * 1024

/**
 * Read an AppImageHub catalog file (the format of data/appimagehub-apps.json) and map it to
 * release drafts. Throws InvalidCatalogError when the file is not JSON or not a catalog.
 */
export async function readAppImageHubCatalog (path: string, options: { signal?: AbortSignal } = {}): Promise<AppImageHubImport> {
  const bytes = await readFile(path, { signal: options.signal })
  if (bytes.byteLength > MAX_CATALOG_BYTES) {
    throw new InvalidCatalogError(`${path} is ${bytes.byteLength} bytes; an AppImageHub catalog is a few MB at most`)
  }
  let json: unknown
  try {
    json = JSON.parse(bytes.toString('utf8'))
  } catch (err) {
    throw new InvalidCatalogError(`${path} is not JSON (${(err as Error).message}); give the AppImageHub catalog file, such as data/appimagehub-apps.json`)
  }
  return mapAppImageHubCatalog(json)
}
