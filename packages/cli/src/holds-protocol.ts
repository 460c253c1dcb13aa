import { logger } from '@libp2p/logger'
import { lpStream } from '@libp2p/utils'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Services } from './services.ts'
import type { HublessNode } from '@hubless/net'
import type { AbortOptions, PeerId } from '@libp2p/interface'

const log = logger('hubless:cli:holds')

/**
 * `/hubless/holds/1.0.0`: "do you keep these records and these pinned DAGs?" A publisher asks
 * it until a peer answers yes to everything, so `hubless publish --peer` can say the release is
 * safe elsewhere. Pinned, not merely present: a pin is a promise to keep the blocks.
 * One length-prefixed JSON request, one answer; both bounded.
 */
export const HOLDS_PROTOCOL = '/hubless/holds/1.0.0'

const MAX_MESSAGE = 64 * 1024
const MAX_ITEMS = 256

export interface HoldsQuery {
  records: string[]
  pins: string[]
}

export interface HoldsAnswer {
  records: boolean[]
  pins: boolean[]
}

export async function serveHolds (services: Services): Promise<void> {
  await services.node.libp2p.handle(HOLDS_PROTOCOL, async stream => {
    const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE })
    try {
      const signal = AbortSignal.timeout(10_000)
      const query = parseQuery(new TextDecoder().decode((await lp.read({ signal })).subarray()))
      const registry = await services.registry({ signal })
      const answer: HoldsAnswer = {
        records: await Promise.all(query.records.map(async id => registry.has(id, { signal }).catch(() => false))),
        pins: await Promise.all(query.pins.map(async cid => services.node.content.isPinned(cid, { signal }).catch(() => false)))
      }
      await lp.write(new TextEncoder().encode(JSON.stringify(answer)), { signal })
      await stream.close({ signal })
    } catch (err) {
      log('holds request from %p refused: %e', stream, err)
      stream.abort(err as Error)
    }
  }, { maxInboundStreams: 8, runOnLimitedConnection: false })
}

function parseQuery (text: string): HoldsQuery {
  const value = JSON.parse(text) as { records?: unknown, pins?: unknown }
  const strings = (list: unknown): string[] => {
    if (!Array.isArray(list) || list.length > MAX_ITEMS || !list.every(s => typeof s === 'string' && s.length <= 128)) {
      throw new Error('holds query must be {records: string[], pins: string[]} with at most 256 short strings each')
    }
    return list as string[]
  }
  return { records: strings(value.records ?? []), pins: strings(value.pins ?? []) }
}

export async function askHolds (node: HublessNode, peer: PeerId | string, query: HoldsQuery, options: AbortOptions = {}): Promise<HoldsAnswer> {
  const peerId = typeof peer === 'string' ? peerIdFromString(peer) : peer
  const stream = await node.libp2p.dialProtocol(peerId, HOLDS_PROTOCOL, options)
  const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE })
  await lp.write(new TextEncoder().encode(JSON.stringify(query)), options)
  const answer = JSON.parse(new TextDecoder().decode((await lp.read(options)).subarray())) as HoldsAnswer
  await stream.close(options).catch(() => {})
  return answer
}

/** True when the peer answered yes to every record and pin asked */
export function holdsAll (answer: HoldsAnswer, query: HoldsQuery): boolean {
  return answer.records.length === query.records.length && answer.records.every(Boolean) &&
    answer.pins.length === query.pins.length && answer.pins.every(Boolean)
}
