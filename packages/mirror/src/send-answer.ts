import type { EncodedAnswer } from './encoded-answer.ts'
import type { IncomingMessage, ServerResponse } from 'node:http'

type Coding = 'br' | 'gzip' | 'identity'

/**
 * The codings a client accepts, by its `Accept-Encoding` (RFC 9110 §12.5.3): a coding with
 * `q=0` is refused, `*` stands for any coding not named. Brotli wins a tie: it is smaller.
 */
export function acceptedCoding (header: string | undefined): Coding {
  if (header == null || header === '') return 'identity'
  const weights = new Map<string, number>()
  for (const part of header.toLowerCase().split(',')) {
    const [name = '', ...params] = part.trim().split(';')
    const q = params.map(p => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find(v => v != null)
    const weight = q == null ? 1 : Number(q)
    if (name !== '') weights.set(name.trim(), Number.isFinite(weight) ? weight : 0)
  }
  const weight = (coding: string): number => weights.get(coding) ?? weights.get('*') ?? 0
  const br = weight('br')
  const gz = Math.max(weight('gzip'), weights.get('x-gzip') ?? 0)
  if (br > 0 && br >= gz) return 'br'
  if (gz > 0) return 'gzip'
  return 'identity'
}

/** whether `If-None-Match` names the answer (weak comparison, RFC 9110 §13.1.2, as caches send either form) */
function matches (header: string | undefined, etag: string, coded: string): boolean {
  if (header == null) return false
  return header.split(',').some(raw => {
    const tag = raw.trim().replace(/^W\//, '')
    return tag === '*' || tag === etag || tag === coded
  })
}

/**
 * Sends a cached answer: the encoding the client prefers of those made, `ETag` per encoding (a
 * cache must not hand gzip bytes to a client that asked for none), 304 when `If-None-Match` names
 * it, `Vary: Accept-Encoding` always.
 */
export function sendAnswer (req: IncomingMessage, res: ServerResponse, answer: EncodedAnswer, headers: Record<string, string> = {}): void {
  let coding = acceptedCoding(req.headers['accept-encoding'])
  if (coding === 'br' && answer.br == null) coding = answer.gzip == null ? 'identity' : 'gzip'
  if (coding === 'gzip' && answer.gzip == null) coding = 'identity'
  const body = coding === 'br' ? answer.br : coding === 'gzip' ? answer.gzip : answer.identity
  const etag = coding === 'identity' ? answer.etag : `${answer.etag.slice(0, -1)}-${coding}"`
  const common: Record<string, string | number> = { ...headers, etag, vary: 'Accept-Encoding' }
  if (matches(req.headers['if-none-match'], answer.etag, etag)) {
    res.writeHead(304, common)
    res.end()
    return
  }
  res.writeHead(200, {
    ...common,
    'content-type': answer.type,
    'content-length': (body ?? answer.identity).byteLength,
    ...(coding === 'identity' ? {} : { 'content-encoding': coding })
  })
  res.end(req.method === 'HEAD' ? undefined : body)
}
