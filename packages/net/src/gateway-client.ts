import { logger } from '@libp2p/logger'
import { concat } from 'uint8arrays/concat'
import { BadGatewayUrlError, GatewayRequestError } from './errors.ts'
import type { AbortOptions } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

const log = logger('hubless:net:gateway-client')

/** Larger than any block a well-behaved peer makes (bitswap caps at 2 MiB); stops a gateway from filling memory. */
export const MAX_BLOCK_BYTES = 4 * 1024 * 1024

export function checkGatewayUrl (gateway: string): URL {
  let url: URL
  try {
    url = new URL(gateway)
  } catch {
    throw new BadGatewayUrlError(`"${gateway}" is not a URL. Expected e.g. http://127.0.0.1:8080.`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new BadGatewayUrlError(`Gateway "${gateway}" must be an http: or https: URL.`)
  }
  return url
}

/** One block over the trustless-gateway protocol (`?format=raw`). The caller verifies the bytes. */
export async function requestBlock (gateway: string, cid: CID, options: AbortOptions & { timeout: number }): Promise<Uint8Array> {
  const url = checkGatewayUrl(gateway)
  if (!url.pathname.endsWith('/')) url.pathname += '/'
  url.pathname += `ipfs/${cid.toString()}`
  url.searchParams.set('format', 'raw')
  const signals = [AbortSignal.timeout(options.timeout)]
  if (options.signal != null) signals.push(options.signal)
  const signal = AbortSignal.any(signals)
  log('GET %s', url)
  let response: Response
  try {
    response = await fetch(url, { headers: { accept: 'application/vnd.ipld.raw' }, signal })
  } catch (err) {
    options.signal?.throwIfAborted()
    throw new GatewayRequestError(`Gateway ${gateway} did not answer for ${cid}: ${(err as Error).message}`, gateway)
  }
  if (!response.ok) {
    await response.body?.cancel()
    throw new GatewayRequestError(`Gateway ${gateway} answered ${response.status} for ${cid}`, gateway, response.status)
  }
  const declared = Number(response.headers.get('content-length') ?? 0)
  if (declared > MAX_BLOCK_BYTES || response.body == null) {
    await response.body?.cancel()
    throw new GatewayRequestError(`Gateway ${gateway} sent no body or a block larger than ${MAX_BLOCK_BYTES} bytes for ${cid}`, gateway, response.status)
  }
  const chunks: Uint8Array[] = []
  let length = 0
  const reader = response.body.getReader()
  try {
    while (true) {
      const { done, value: chunk } = await reader.read()
      if (done) break
      length += chunk.byteLength
      if (length > MAX_BLOCK_BYTES) {
        throw new GatewayRequestError(`Gateway ${gateway} sent more than ${MAX_BLOCK_BYTES} bytes for ${cid}`, gateway, response.status)
      }
      chunks.push(chunk)
    }
  } catch (err) {
    await reader.cancel().catch(() => {})
    options.signal?.throwIfAborted()
    if (err instanceof GatewayRequestError) throw err
    throw new GatewayRequestError(`Gateway ${gateway} broke off the body for ${cid}: ${(err as Error).message}`, gateway, response.status)
  }
  return concat(chunks, length)
}
