import { InvalidSavedIndexError } from './errors.ts'
import type { CatalogRecord, SourcePosition } from './index.ts'
import { SearchIndex } from './search-index.ts'

/**
 * The saved index: three lines of JSON (JSON never holds a raw newline) so the search index is
 * not encoded twice. Line 1 is a header, line 2 the records (id and record, no signatures: the
 * file is the reader's own, written after the registry verified them), line 3 MiniSearch's JSON.
 * The views are rebuilt from the records on load (milliseconds), because they also depend on
 * the reader's roots and clock, which may have changed since.
 */

const FORMAT = 'hubless-query-index'
const VERSION = 1

interface Header {
  format: string
  version: number
  records: number
  /** app id → id of the release whose metadata its search document holds */
  indexed: Record<string, string>
  /** how far into its source the records reach; absent: read the source from its start */
  position?: SourcePosition
  /** the catalog's `retain`, if it dropped releases; absent: it held every one */
  retain?: number
  /** the apps it dropped releases of */
  partial?: string[]
}

export interface LoadedIndex {
  records: CatalogRecord[]
  indexed: Map<string, string>
  search: SearchIndex
  position?: SourcePosition
  retain?: number
  partial: string[]
}

export interface SavedState {
  indexed: Map<string, string>
  search: SearchIndex
  position?: SourcePosition
  retain?: number
  partial: Iterable<string>
}

/** records a piece of the saved index holds (~400 KB of text) */
const RECORDS_A_PIECE = 1000

/**
 * The saved index in pieces, to be written one after another: as one string, a million-record
 * registry's (29 MB) took ~100 MB of memory while written. What it holds is taken when this is
 * called (the records, the header, the search index); the records' text is made a piece at a
 * time, as the pieces are read. Joined, the pieces are the file.
 */
export function serializeIndexPieces (records: Iterable<CatalogRecord>, { indexed, search, position, retain, partial }: SavedState): Iterable<string> {
  const list: CatalogRecord[] = [...records]
  const header: Header = { format: FORMAT, version: VERSION, records: list.length, indexed: Object.fromEntries(indexed) }
  if (position != null) header.position = position
  if (retain != null) header.retain = retain
  const partialApps = [...partial]
  if (partialApps.length > 0) header.partial = partialApps
  const head = `${JSON.stringify(header)}\n[`
  const tail = `]\n${search.toJSON()}`
  return (function * () {
    yield head
    for (let start = 0; start < list.length; start += RECORDS_A_PIECE) {
      const text = list.slice(start, start + RECORDS_A_PIECE).map(r => JSON.stringify({ id: r.id, record: r.record })).join(',')
      yield start === 0 ? text : `,${text}`
    }
    yield tail
  })()
}

function lineAt (text: string, start: number): [string, number] {
  const end = text.indexOf('\n', start)
  return end < 0 ? [text.slice(start), text.length] : [text.slice(start, end), end + 1]
}

export function parseSavedIndex (input: string | Uint8Array): LoadedIndex {
  const text = typeof input === 'string' ? input : new TextDecoder().decode(input)
  const [headerLine, afterHeader] = lineAt(text, 0)
  const [recordsLine, afterRecords] = lineAt(text, afterHeader)
  const searchLine = text.slice(afterRecords)
  let header: Header
  let records: CatalogRecord[]
  try {
    header = JSON.parse(headerLine) as Header
    records = JSON.parse(recordsLine) as CatalogRecord[]
  } catch (err) {
    throw new InvalidSavedIndexError(`the saved index is not readable JSON (${(err as Error).message}); delete it and let the catalog rebuild it`)
  }
  if (header == null || header.format !== FORMAT) {
    throw new InvalidSavedIndexError(`not a hubless saved index (format ${JSON.stringify(header?.format)}); expected ${FORMAT}`)
  }
  if (header.version !== VERSION) {
    throw new InvalidSavedIndexError(`saved index version ${header.version} is not ${VERSION}; delete it and let the catalog rebuild it`)
  }
  if (!Array.isArray(records) || records.length !== header.records || typeof header.indexed !== 'object' || header.indexed == null) {
    throw new InvalidSavedIndexError('the saved index is truncated or damaged (record count does not match its header); delete it and rebuild')
  }
  let search: SearchIndex
  try {
    search = SearchIndex.load(searchLine)
  } catch (err) {
    throw new InvalidSavedIndexError(`the saved search index is damaged (${(err as Error).message}); delete it and rebuild`)
  }
  const partial = Array.isArray(header.partial) ? header.partial.filter(a => typeof a === 'string') : []
  const loaded: LoadedIndex = { records, indexed: new Map(Object.entries(header.indexed)), search, partial }
  const position = header.position
  if (position != null && typeof position === 'object' && typeof position.index === 'string' && Number.isSafeInteger(position.seq)) loaded.position = { index: position.index, seq: position.seq }
  if (Number.isSafeInteger(header.retain) && header.retain! >= 1) loaded.retain = header.retain
  // a retain that is there but unreadable: the file dropped releases, by how many is unknown
  else if (header.retain != null) loaded.retain = 0
  return loaded
}
