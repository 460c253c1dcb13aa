import { readFile } from 'node:fs/promises'
import { readCleanState } from './registry-state.ts'
import { createTrustRoots } from './trust-roots.ts'
import type { DataDirLayout } from './data-dir.ts'
import type { SearchInput, ShowInput } from './operations/catalog.ts'

/**
 * Answers `search`, `show` and `status` without a node, while no daemon runs: from the saved index
 * and the state the last node to stop wrote (registry-state.ts), in a fraction of the time opening
 * libp2p, Helia and OrbitDB takes. Trust is evaluated from the trust roots as they are now. Only a
 * clean state qualifies, so the index holds every record the registry holds; otherwise (and for
 * `--mirror`) the answer is `undefined` and the caller opens the node.
 */
export async function answerFromSavedIndex (layout: DataDirLayout, name: string, input: unknown): Promise<{ value: unknown } | undefined> {
  if (name !== 'search' && name !== 'show' && name !== 'status') return undefined
  if ((input as { mirror?: string }).mirror != null) return undefined
  const state = await readCleanState(layout)
  if (state == null) return undefined
  if (name === 'status') {
    const { statusFromState } = await import('./operations/status.ts')
    return { value: statusFromState(state) }
  }
  const savedIndex = await readFile(layout.indexFile, 'utf8').catch(() => undefined)
  if (savedIndex == null) return undefined
  const [{ createCatalog }, { searchCatalog, showFromCatalog, toSearchQuery }] = await Promise.all([import('@hubless/query'), import('./operations/catalog.ts')])
  // a usage error is the user's to see, not a reason to open the node
  if (name === 'search') toSearchQuery(input as SearchInput)
  const roots = await createTrustRoots(layout.trustFile).list()
  const catalog = await createCatalog({}, { roots, savedIndex }).catch(() => undefined)
  if (catalog == null) return undefined
  try {
    return { value: name === 'search' ? searchCatalog(catalog, input as SearchInput) : showFromCatalog(catalog, input as ShowInput) }
  } finally {
    await catalog.stop()
  }
}
