import { timingSafeEqual } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'

/** Why a request to the local operation API is refused: an HTTP status and a named error */
export interface Refusal {
  status: number
  name: string
  message: string
}

export interface GuardInit {
  /** the secret of this daemon's run (DATA_DIR/api-token) */
  token: string
  /** the only `Host` a client of this listener sends: `localhost` on the socket, `127.0.0.1:PORT` on TCP */
  host: string
}

export const TOKEN_HEADER = 'authorization'

/**
 * The checks that make the operation API answer only the user's own `hubless` processes.
 * Each one closes a way in on its own (SECURITY.md, "The local operation API"):
 * - `Origin`: browsers send it on every cross-origin POST (and on `fetch` from a page); our
 *   client never does, so a request that carries one came from a web page.
 * - `Host`: a DNS-rebinding page reaches 127.0.0.1 under its own name, which the browser puts
 *   in `Host`; only the literal address we listen on is ours.
 * - `Content-Type: application/json`: the only type a page can send cross-site without a CORS
 *   preflight is one of the "simple" ones (text/plain, form encodings).
 * - the token: a file only this user can read; it is what keeps other local users and any
 *   process that is not the user's own out, even on the TCP fallback.
 */
export function refuse (method: string | undefined, headers: IncomingHttpHeaders, init: GuardInit): Refusal | undefined {
  if (headers.origin != null || headers['sec-fetch-site'] != null) {
    return { status: 403, name: 'ForbiddenOrigin', message: 'the local API does not answer web pages (the request carries an Origin)' }
  }
  if (headers.host !== init.host) {
    return { status: 403, name: 'ForbiddenHost', message: `the local API answers only requests for Host ${init.host}` }
  }
  if (method !== 'POST') {
    return { status: 405, name: 'MethodNotAllowed', message: 'use POST' }
  }
  const type = (headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
  if (type !== 'application/json') {
    return { status: 415, name: 'UnsupportedMediaType', message: 'the local API takes Content-Type: application/json only' }
  }
  if (!tokenMatches(headers[TOKEN_HEADER], init.token)) {
    return { status: 401, name: 'Unauthorized', message: 'a missing or wrong token: the local API needs the token from the data dir\'s api-token file' }
  }
  return undefined
}

function tokenMatches (header: string | undefined, token: string): boolean {
  const match = /^Bearer ([0-9a-f]{64})$/.exec(header ?? '')
  if (match == null) return false
  const given = Buffer.from(match[1] ?? '', 'hex')
  const expected = Buffer.from(token, 'hex')
  return given.length === expected.length && timingSafeEqual(given, expected)
}
