import { readFile, rename, stat, writeFile } from 'node:fs/promises'
import type { DataDirLayout } from './data-dir.ts'

/**
 * `DATA_DIR/registry-state.json`: whether the saved index (`catalog-index.json`) holds every
 * record of the registry, and what `status` would say about it. A process that opens the registry
 * marks it open (`clean: false`) first; when it stops, it saves the index and then writes the
 * state with `clean: true`. Commands read from the saved index only while the state is clean, so a
 * node that was killed (or is running without a daemon.json, or crashed mid-publish) sends the
 * next command the slow way, through the registry, which brings the index up to date again.
 */
export type RegistryState = { clean: false, pid: number } | CleanRegistryState

export interface CleanRegistryState {
  clean: true
  /** ISO 8601: when the node stopped and saved the index */
  savedAt: string
  peerId: string
  registry: { name: string, address: string, records: number, heads: string[], lastSync?: string }
  publisher?: string
}

export async function markRegistryOpen (layout: DataDirLayout): Promise<void> {
  await writeState(layout.registryState, { clean: false, pid: process.pid })
}

export async function markRegistryClean (layout: DataDirLayout, state: Omit<CleanRegistryState, 'clean' | 'savedAt'>): Promise<void> {
  await writeState(layout.registryState, { clean: true, savedAt: new Date().toISOString(), ...state })
}

/**
 * The clean state, if the saved index may answer for the registry: the state is clean, and no key
 * file changed since (a key imported or created by hand would otherwise show the old publisher)
 */
export async function readCleanState (layout: DataDirLayout): Promise<CleanRegistryState | undefined> {
  let state: RegistryState
  try {
    state = JSON.parse(await readFile(layout.registryState, 'utf8')) as RegistryState
  } catch {
    return undefined
  }
  if (state?.clean !== true || typeof state.savedAt !== 'string' || typeof state.registry !== 'object') return undefined
  const keysChanged = await stat(layout.keys).then(s => s.mtimeMs, () => 0)
  return keysChanged > Date.parse(state.savedAt) ? undefined : state
}

async function writeState (path: string, state: RegistryState): Promise<void> {
  await writeFile(`${path}.tmp`, JSON.stringify(state) + '\n', { mode: 0o600 })
  await rename(`${path}.tmp`, path)
}
