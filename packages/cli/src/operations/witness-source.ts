import { createWitnessIndex } from '@hubless/query'
import { recordFromJSON } from '@hubless/registry/records'
import { logger } from '@libp2p/logger'
import type { Services } from '../services.ts'
import type { WitnessIndex } from '@hubless/query'

const log = logger('hubless:cli:witnesses')

/** the most a mirror's witness feed may be; past it, what arrived so far is used */
const MAX_FEED_BYTES = 64 * 1024 * 1024

/**
 * The witnesses a catalog command reads, with this data dir's trusted witness keys: the witness
 * log (peer-to-peer), or, with `mirror`, that mirror's `/api/v1/witnesses` feed over HTTP(S),
 * every record verified here (a line that does not verify is dropped).
 */
export async function witnessesFor (services: Services, mirror: string | undefined, signal: AbortSignal): Promise<WitnessIndex> {
  if (mirror == null) return services.witnessIndex({ signal })
  const index = createWitnessIndex({ witnessKeys: await services.trustRoots.witnesses() })
  let response: Response
  try {
    response = await fetch(new URL('/api/v1/witnesses', mirror), { signal: AbortSignal.any([signal, AbortSignal.timeout(60_000)]) })
  } catch (err) {
    signal.throwIfAborted()
    log('no witness feed at %s: %e', mirror, err)
    return index
  }
  // a mirror from before witnesses answers 404: no witnesses, not an error
  if (!response.ok || response.body == null) {
    await response.body?.cancel()
    return index
  }
  let text = ''
  let bytes = 0
  const decoder = new TextDecoder()
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.byteLength
    if (bytes > MAX_FEED_BYTES) break
    text += decoder.decode(chunk, { stream: true })
  }
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    try {
      index.add(await recordFromJSON(line))
    } catch (err) {
      log('dropped a witness line from %s: %e', mirror, err)
    }
  }
  return index
}
