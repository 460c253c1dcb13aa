import { logger } from '@libp2p/logger'
import { formatRange, parseContentRange } from './byte-ranges.ts'
import { BadRangeAnswerError, GatewayRequestError, RangesNotSupportedError } from './errors.ts'
import { checkGatewayUrl } from './gateway-client.ts'
import { byterangesBoundary, createByterangesParser } from './multipart.ts'
import type { ByteRange } from './byte-ranges.ts'
import type { RangeBytes } from './multipart.ts'
import type { AbortOptions } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

const log = logger('hubless:net:range-client')

/** Bytes allowed per part for its head (delimiter line, Content-Type, Content-Range), beyond the bytes asked for */
const HEAD_ALLOWANCE = 1024

export interface RangeRequestOptions extends AbortOptions {
  /** the file's size, from its DAG: every Content-Range must name it */
  size: number
  /** how long the answer may stay silent, in ms */
  idleTimeout: number
}

/**
 * Byte ranges of the UnixFS file `root` from a gateway's `/ipfs/{root}` (a hubless mirror, or
 * any gateway that serves files), in one request: the bytes of the file, at their offsets, as
 * they arrive. Nothing is verified here (the caller checks each block against its CID); what is
 * bounded here is the answer: no more than the bytes asked for plus a head per part, else
 * `BadRangeAnswerError`. A gateway that sends the whole file (200) or refuses (406) throws
 * `RangesNotSupportedError`, having read nothing of the body.
 */
export async function * requestRanges (gateway: string, root: CID, ranges: ByteRange[], options: RangeRequestOptions): AsyncGenerator<RangeBytes> {
  const url = checkGatewayUrl(gateway)
  if (!url.pathname.endsWith('/')) url.pathname += '/'
  url.pathname += `ipfs/${root.toString()}`
  const asked = ranges.reduce((sum, r) => sum + r.end - r.start + 1, 0)
  const limit = asked + (ranges.length + 1) * HEAD_ALLOWANCE
  const idle = new AbortController()
  let timer = setTimeout(() => { idle.abort() }, options.idleTimeout)
  const signal = options.signal == null ? idle.signal : AbortSignal.any([options.signal, idle.signal])
  log('GET %s, %d ranges, %d bytes', url, ranges.length, asked)
  let response: Response
  try {
    response = await fetch(url, { headers: { accept: 'application/octet-stream', range: formatRange(ranges) }, signal })
  } catch (err) {
    clearTimeout(timer)
    options.signal?.throwIfAborted()
    throw new GatewayRequestError(`Gateway ${gateway} did not answer for ranges of ${root}: ${(err as Error).message}`, gateway)
  }
  const reader = response.body?.getReader()
  try {
    if (response.status === 200 || response.status === 406 || response.status === 501) {
      throw new RangesNotSupportedError(`Gateway ${gateway} answered ${response.status} to a Range request for ${root}: it does not serve byte ranges of files`, gateway, response.status)
    }
    if (response.status !== 206) {
      throw new GatewayRequestError(`Gateway ${gateway} answered ${response.status} for ranges of ${root}`, gateway, response.status)
    }
    if (reader == null) throw new BadRangeAnswerError(`Gateway ${gateway} sent a 206 without a body for ${root}`, gateway)
    const declared = Number(response.headers.get('content-length') ?? 0)
    if (declared > limit) throw new BadRangeAnswerError(`Gateway ${gateway} announced ${declared} bytes for ${asked} bytes of ranges of ${root}`, gateway)
    const split = splitter(gateway, response.headers, options.size)
    let received = 0
    while (true) {
      const { done, value } = await reader.read().catch((err: unknown) => {
        options.signal?.throwIfAborted()
        throw new GatewayRequestError(`Gateway ${gateway} broke off the ranges of ${root}${idle.signal.aborted ? ` (silent for ${options.idleTimeout} ms)` : ''}: ${(err as Error).message}`, gateway, 206)
      })
      if (done) break
      clearTimeout(timer)
      timer = setTimeout(() => { idle.abort() }, options.idleTimeout)
      received += value.byteLength
      if (received > limit) throw new BadRangeAnswerError(`Gateway ${gateway} sent more than ${limit} bytes for ${asked} bytes of ranges of ${root}`, gateway)
      yield * split(value)
    }
  } finally {
    clearTimeout(timer)
    await reader?.cancel().catch(() => {})
  }
}

/** How the body of a 206 turns into file bytes: one range (Content-Range) or many (multipart) */
function splitter (gateway: string, headers: Headers, size: number): (chunk: Uint8Array) => RangeBytes[] {
  const boundary = byterangesBoundary(headers.get('content-type'))
  if (boundary != null) {
    const parser = createByterangesParser({ boundary, size, source: gateway })
    return chunk => parser.push(chunk)
  }
  const range = parseContentRange(headers.get('content-range'))
  if (range == null || range.size !== size) {
    throw new BadRangeAnswerError(`Gateway ${gateway} sent a 206 with neither multipart/byteranges nor a Content-Range of a ${size}-byte file (${headers.get('content-range') ?? 'none'})`, gateway)
  }
  let offset = range.start
  let left = range.end - range.start + 1
  return chunk => {
    const n = Math.min(left, chunk.byteLength)
    if (n < chunk.byteLength) throw new BadRangeAnswerError(`Gateway ${gateway} sent more bytes than its Content-Range`, gateway)
    const out = [{ offset, bytes: chunk }]
    offset += n
    left -= n
    return out
  }
}
