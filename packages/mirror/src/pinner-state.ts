import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import { logger } from '@libp2p/logger'
import type { RecordPosition } from '@hubless/registry'

const log = logger('hubless:mirror:pinner-state')

const STATE_VERSION = 1

/** One content the pinner holds or waits for, with every release record that names it */
export interface PinnedItem {
  record: string
  records: string[]
  cid: string
  appId: string
  version: string
  size: number
  assets: string[]
}

/**
 * What the pinner held at its last clean stop: what it pinned, the release records whose content
 * it was fetching or waiting to retry, and the registry's position it had considered every record
 * up to. The next start reads
 * only the records after that position, where it read every record of the registry before (a
 * pass over a million records at each start). Only for the settings it was written with.
 */
export interface PinnerState {
  v: number
  /** the policy's settings; another set of settings wants other releases, so a start reads everything */
  settings: string
  position: RecordPosition
  pinnedBytes: number
  pinned: PinnedItem[]
  /** ids of the release records whose content was queued, being fetched or missing */
  waiting: string[]
}

/**
 * The state saved at the last clean stop, removed as it is read: a run that does not stop
 * cleanly leaves none, and the next start reads every record, as without one. Anything unreadable
 * or of other settings is ignored the same way.
 */
export async function takePinnerState (file: string, settings: string): Promise<PinnerState | undefined> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch {
    return undefined
  }
  await rm(file, { force: true })
  try {
    const state = JSON.parse(text) as PinnerState
    if (state.v !== STATE_VERSION || state.settings !== settings || !isPosition(state.position) || !Array.isArray(state.pinned) || !Array.isArray(state.waiting) || typeof state.pinnedBytes !== 'number') {
      log('ignoring %s: another version or other settings', file)
      return undefined
    }
    if (!state.pinned.every(isItem) || !state.waiting.every(id => typeof id === 'string')) throw new Error('an item is malformed')
    return state
  } catch (err) {
    log('ignoring %s: %s', file, (err as Error).message)
    return undefined
  }
}

/** written whole to a temporary file first, so a stop cut short leaves the old state or none */
export async function savePinnerState (file: string, state: Omit<PinnerState, 'v'>): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`
  await writeFile(temporary, JSON.stringify({ v: STATE_VERSION, ...state }))
  await rename(temporary, file)
}

function isPosition (value: unknown): value is RecordPosition {
  const p = value as RecordPosition | undefined
  return p != null && typeof p.index === 'string' && Number.isSafeInteger(p.seq)
}

function isItem (value: unknown): value is PinnedItem {
  const item = value as PinnedItem | undefined
  return item != null && typeof item.record === 'string' && typeof item.cid === 'string' && typeof item.appId === 'string' &&
    typeof item.version === 'string' && typeof item.size === 'number' && Array.isArray(item.records) && Array.isArray(item.assets)
}
