/**
 * `/hubless/holds/1.0.0`: "do you keep these records and these pinned DAGs?" A publisher asks
 * it until a peer answers yes to everything, so `hubless publish --peer` can say the release is
 * safe elsewhere. Pinned, not merely present: a pin is a promise to keep the blocks.
 * One length-prefixed JSON request, one answer; both bounded.
 *
 * A protocol in the js-libp2p style: `holds(init)` returns a factory that takes only the
 * components the protocol uses (where to register, the records, the pins) and returns a
 * startable service; `askHolds` is the client side and needs only a way to dial.
 */

import { logger } from '@libp2p/logger'
import { lpStream } from '@libp2p/utils'
import { InvalidHoldsMessageError } from './errors.ts'
import type { Registry } from './index.ts'
import type { HublessNode } from '@hubless/net'
import type { AbortOptions, Libp2p, PeerId, Startable } from '@libp2p/interface'

const log = logger('hubless:registry:holds')

export const HOLDS_PROTOCOL = '/hubless/holds/1.0.0'

const MAX_MESSAGE = 64 * 1024
const MAX_ITEMS = 256
const MAX_ITEM_LENGTH = 128

export interface HoldsQuery {
  /** record ids */
  records: string[]
  /** CIDs of DAGs that must be pinned */
  pins: string[]
}

export interface HoldsAnswer {
  records: boolean[]
  pins: boolean[]
}

export interface HoldsComponents {
  /** where the protocol's handler is registered (a libp2p node) */
  registrar: Pick<Libp2p, 'handle' | 'unhandle'>
  /** the records this node keeps */
  registry: Pick<Registry, 'has'>
  /** the content this node pins */
  content: Pick<HublessNode['content'], 'isPinned'>
}

export interface HoldsInit {
  /** ms a peer has to send its question and read the answer; default 10 000 */
  timeout?: number
  /** questions answered at once; default 8 */
  maxInboundStreams?: number
}

/** The server side of `/hubless/holds/1.0.0`: answers while started */
export interface HoldsService extends Startable {
  /** what this node would answer */
  answer (query: HoldsQuery, options?: AbortOptions): Promise<HoldsAnswer>
}

class Holds implements HoldsService {
  private readonly components: HoldsComponents
  private readonly timeout: number
  private readonly maxInboundStreams: number
  private started = false

  constructor (components: HoldsComponents, init: HoldsInit) {
    this.components = components
    this.timeout = init.timeout ?? 10_000
    this.maxInboundStreams = init.maxInboundStreams ?? 8
  }

  async start (): Promise<void> {
    if (this.started) return
    await this.components.registrar.handle(HOLDS_PROTOCOL, async stream => {
      const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE })
      try {
        const signal = AbortSignal.timeout(this.timeout)
        const query = parseHoldsQuery(new TextDecoder().decode((await lp.read({ signal })).subarray()))
        const answer = await this.answer(query, { signal })
        await lp.write(new TextEncoder().encode(JSON.stringify(answer)), { signal })
        await stream.close({ signal })
      } catch (err) {
        log('holds request from %p refused: %e', stream, err)
        stream.abort(err as Error)
      }
    }, { maxInboundStreams: this.maxInboundStreams, runOnLimitedConnection: false })
    this.started = true
  }

  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    await this.components.registrar.unhandle(HOLDS_PROTOCOL)
  }

  async answer (query: HoldsQuery, options: AbortOptions = {}): Promise<HoldsAnswer> {
    const { registry, content } = this.components
    return {
      records: await Promise.all(query.records.map(async id => registry.has(id, options).catch(() => false))),
      pins: await Promise.all(query.pins.map(async cid => content.isPinned(cid, options).catch(() => false)))
    }
  }
}

/**
 * The holds protocol, to start on a node: `await holds()({ registrar: node.libp2p, registry, content: node.content }).start()`
 */
export function holds (init: HoldsInit = {}): (components: HoldsComponents) => HoldsService {
  return components => new Holds(components, init)
}

function stringList (list: unknown, what: string): string[] {
  if (!Array.isArray(list) || list.length > MAX_ITEMS || !list.every(s => typeof s === 'string' && s.length <= MAX_ITEM_LENGTH)) {
    throw new InvalidHoldsMessageError(`${what} must be a list of at most ${MAX_ITEMS} strings of at most ${MAX_ITEM_LENGTH} characters`)
  }
  return list as string[]
}

/** A question as it comes off the wire; throws `InvalidHoldsMessageError` unless it is `{records: string[], pins: string[]}` within bounds */
export function parseHoldsQuery (text: string): HoldsQuery {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new InvalidHoldsMessageError('a holds query must be JSON', { cause: err })
  }
  if (value == null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidHoldsMessageError('a holds query must be {records: string[], pins: string[]}')
  const { records, pins } = value as { records?: unknown, pins?: unknown }
  return { records: stringList(records ?? [], 'records'), pins: stringList(pins ?? [], 'pins') }
}

/** Asks `peer` whether it holds the records and keeps the pins of `query`; needs only a way to dial */
export async function askHolds (dialer: Pick<Libp2p, 'dialProtocol'>, peer: PeerId, query: HoldsQuery, options: AbortOptions = {}): Promise<HoldsAnswer> {
  const stream = await dialer.dialProtocol(peer, HOLDS_PROTOCOL, options)
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
