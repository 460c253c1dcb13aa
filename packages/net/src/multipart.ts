import { parseContentRange } from './byte-ranges.ts'
import { BadRangeAnswerError } from './errors.ts'

/** Bytes of a file at their offset, as a range answer carries them */
export interface RangeBytes {
  offset: number
  bytes: Uint8Array
}

export interface ByterangesInit {
  /** the boundary from the answer's `Content-Type` */
  boundary: string
  /** the file's size: a part whose Content-Range names another size is of another file */
  size: number
  /** who answered, for errors */
  source: string
  /** most bytes of a delimiter line and headers before a part's body (default 4096) */
  maxHeadBytes?: number
  /** most parts in the answer (default 1024) */
  maxParts?: number
}

export interface ByterangesParser {
  /**
   * The file bytes in `chunk`, views into it (copy what must outlive it). Throws
   * `BadRangeAnswerError` on broken framing, a head over the limit, or too many parts.
   */
  push (chunk: Uint8Array): RangeBytes[]
  /** whether the closing delimiter was seen (the bytes after it, the epilogue, are ignored) */
  readonly done: boolean
  /** parts begun so far */
  readonly parts: number
}

const DEFAULT_MAX_HEAD = 4096
const DEFAULT_MAX_PARTS = 1024
const CRLFCRLF = Buffer.from('\r\n\r\n')

/**
 * The boundary of a `multipart/byteranges` Content-Type (RFC 2046: 1 to 70 characters of a
 * restricted set), or `undefined` when the type is another one or the boundary is not valid.
 */
export function byterangesBoundary (contentType: string | null): string | undefined {
  if (contentType == null) return undefined
  const [type, ...params] = contentType.split(';')
  if (type?.trim().toLowerCase() !== 'multipart/byteranges') return undefined
  for (const param of params) {
    const match = /^\s*boundary\s*=\s*(?:"([^"]*)"|([^\s;]*))\s*$/i.exec(param)
    if (match == null) continue
    const boundary = match[1] ?? match[2] ?? ''
    return /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/.test(boundary) ? boundary : undefined
  }
  return undefined
}

/**
 * A streaming parser of a `multipart/byteranges` body (RFC 9110, 14.6). A part's length comes
 * from its Content-Range, so its body is never searched for the boundary; what follows it must
 * be the next delimiter. Everything it holds is bounded: the head of a part (delimiter line and
 * headers) by `maxHeadBytes`, the number of parts by `maxParts`; bodies are handed out as views.
 */
export function createByterangesParser (init: ByterangesInit): ByterangesParser {
  const maxHead = init.maxHeadBytes ?? DEFAULT_MAX_HEAD
  const maxParts = init.maxParts ?? DEFAULT_MAX_PARTS
  const delimiter = Buffer.from(`--${init.boundary}`)
  let head = Buffer.alloc(0)
  /** bytes of the current part's body still to come; -1 between parts */
  let remaining = -1
  let offset = 0
  let parts = 0
  let done = false

  function fail (what: string): never {
    throw new BadRangeAnswerError(`${init.source} sent a malformed multipart/byteranges answer: ${what}`, init.source)
  }

  /** Reads the head once it is whole: returns the bytes of `head` it used, or -1 to wait for more */
  function takeHead (): number {
    const at = head.indexOf(delimiter)
    if (at < 0) return -1
    // between parts only the CRLF that belongs to the delimiter (or, before the first, a preamble)
    if (parts > 0 && (at !== 2 || head[0] !== 0x0d || head[1] !== 0x0a)) fail(`${at} bytes between a part's body and the next delimiter, expected CRLF`)
    const after = at + delimiter.byteLength
    if (head.byteLength < after + 2) return -1
    if (head[after] === 0x2d && head[after + 1] === 0x2d) {
      done = true
      return head.byteLength
    }
    const end = head.indexOf(CRLFCRLF, after)
    if (end < 0) return -1
    const lines = head.subarray(after, end).toString('latin1').split('\r\n')
    // the rest of the delimiter line is transport padding: whitespace only
    if (!/^[ \t]*$/.test(lines[0] ?? '')) fail('text after the delimiter')
    let range: ReturnType<typeof parseContentRange>
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':')
      if (colon <= 0) fail('a header line without a name')
      if (line.slice(0, colon).trim().toLowerCase() === 'content-range') range = parseContentRange(line.slice(colon + 1))
    }
    if (range == null) fail('a part without a valid Content-Range')
    if (range.size !== init.size) fail(`a part of a file of ${range.size ?? 'unknown'} bytes, expected ${init.size}`)
    if (++parts > maxParts) fail(`more than ${maxParts} parts`)
    offset = range.start
    remaining = range.end - range.start + 1
    return end + 4
  }

  return {
    get done () { return done },
    get parts () { return parts },
    push (chunk) {
      const out: RangeBytes[] = []
      let at = 0
      while (at < chunk.byteLength && !done) {
        if (remaining > 0) {
          const n = Math.min(remaining, chunk.byteLength - at)
          out.push({ offset, bytes: chunk.subarray(at, at + n) })
          offset += n
          remaining -= n
          at += n
          if (remaining === 0) remaining = -1
          continue
        }
        // a head (CRLF, delimiter line, headers, empty line): gathered across chunks, at most maxHead
        const take = Math.min(chunk.byteLength - at, maxHead - head.byteLength)
        if (take <= 0) fail(`no complete part head within ${maxHead} bytes`)
        const before = head.byteLength
        head = Buffer.concat([head, chunk.subarray(at, at + take)])
        const used = takeHead()
        if (used < 0) {
          at += take
          continue
        }
        // bytes of this chunk past the head are the body (or epilogue); go on from there
        at += used - before
        head = Buffer.alloc(0)
      }
      return out
    }
  }
}
