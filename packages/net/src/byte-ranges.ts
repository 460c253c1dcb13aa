/** One satisfiable byte range, both ends inclusive, as in `Content-Range` */
export interface ByteRange {
  start: number
  end: number
}

/**
 * What a `Range` header asks of a representation of `size` bytes (RFC 9110, 14.2):
 * `undefined` to send the whole of it (no header, another unit, a syntax error, more ranges
 * than `maxRanges`: a server may ignore such a header), `'unsatisfiable'` for a 416, or the
 * satisfiable ranges in the order asked, each clipped to the end of the representation.
 */
export function parseRange (header: string | undefined, size: number, maxRanges = 100): ByteRange[] | 'unsatisfiable' | undefined {
  if (header == null) return undefined
  const match = /^\s*bytes\s*=\s*(.*)$/i.exec(header)
  if (match == null) return undefined
  const specs = match[1]!.split(',').map(s => s.trim()).filter(s => s !== '')
  if (specs.length === 0 || specs.length > maxRanges) return undefined
  const ranges: ByteRange[] = []
  for (const spec of specs) {
    const parts = /^(\d{0,16})-(\d{0,16})$/.exec(spec)
    if (parts == null || (parts[1] === '' && parts[2] === '')) return undefined
    if (parts[1] === '') {
      const suffix = Number(parts[2])
      if (suffix > 0 && size > 0) ranges.push({ start: Math.max(0, size - suffix), end: size - 1 })
      continue
    }
    const start = Number(parts[1])
    const last = parts[2] === '' ? undefined : Number(parts[2])
    if (last != null && last < start) return undefined
    if (start >= size) continue
    ranges.push({ start, end: Math.min(last ?? size - 1, size - 1) })
  }
  return ranges.length === 0 ? 'unsatisfiable' : ranges
}

/**
 * Whether a request's `If-Range` lets its `Range` apply: absent, or the strong entity tag of the
 * current representation. A date never matches (these answers carry no Last-Modified), so the
 * client gets the whole representation, which is what a changed one calls for.
 */
export function ifRangeAllows (ifRange: string | undefined, etag: string): boolean {
  if (ifRange == null) return true
  const value = ifRange.trim()
  return !value.startsWith('W/') && value === etag
}

/** A `Content-Range: bytes START-END/SIZE` (SIZE may be `*`), or `undefined` when it is not one */
export function parseContentRange (header: string | null | undefined): (ByteRange & { size?: number }) | undefined {
  if (header == null) return undefined
  const match = /^\s*bytes\s+(\d{1,16})-(\d{1,16})\/(\d{1,16}|\*)\s*$/i.exec(header)
  if (match == null) return undefined
  const start = Number(match[1])
  const end = Number(match[2])
  const size = match[3] === '*' ? undefined : Number(match[3])
  if (end < start || (size != null && end >= size)) return undefined
  return size == null ? { start, end } : { start, end, size }
}

/** A `Range` header asking for `ranges` (inclusive ends), in the order given */
export function formatRange (ranges: ByteRange[]): string {
  return `bytes=${ranges.map(r => `${r.start}-${r.end}`).join(',')}`
}
