import { askHolds, holdsAll } from '@hubless/registry'
import { peerIdFromString } from '@libp2p/peer-id'
import { NotReplicatedError } from '../errors.ts'
import type { OperationContext } from './operation.ts'
import type { HoldsQuery } from '@hubless/registry'

const DEFAULT_WAIT_SECONDS = 120

/** Where a record a publisher writes should go before the command returns */
export interface HandOverInput {
  /** multiaddrs of peers to hand the record to; the command waits until one holds it all */
  peers?: string[]
  /** how long to wait for a peer to hold it; default 120 */
  waitSeconds?: number
}

/** Dials the peers named, before anything is written: an unreachable one is found first */
export async function dialPeers ({ services, signal }: OperationContext, input: HandOverInput): Promise<void> {
  for (const peer of input.peers ?? []) {
    await services.node.dial(peer, { signal: AbortSignal.any([signal, AbortSignal.timeout(15_000)]) })
  }
}

/**
 * With peers named (or a daemon connected to some), asks them until one holds the records and
 * keeps the content. A record that exists on this machine alone is one disk failure from gone,
 * and a yank or a revocation nobody else holds protects nobody. `undefined` when there was no
 * peer to ask.
 */
export async function waitForHolders ({ services, signal, onProgress }: OperationContext, input: HandOverInput, query: HoldsQuery, what: string): Promise<string[] | undefined> {
  const node = services.node
  const connected = (): string[] => [...new Set(node.libp2p.getConnections().map(c => c.remotePeer.toString()))]
  if ((input.peers ?? []).length === 0 && connected().length === 0) {
    return undefined
  }
  const waitSeconds = input.waitSeconds ?? DEFAULT_WAIT_SECONDS
  const deadline = Date.now() + waitSeconds * 1000
  let best = 0
  while (true) {
    const peers = connected()
    const answers = await Promise.all(peers.map(async peer => {
      try {
        return { peer, answer: await askHolds(node.libp2p, peerIdFromString(peer), query, { signal: AbortSignal.any([signal, AbortSignal.timeout(5_000)]) }) }
      } catch {
        return { peer, answer: undefined }
      }
    }))
    const holders = answers.filter(a => a.answer != null && holdsAll(a.answer, query)).map(a => a.peer)
    if (holders.length > 0) {
      return holders
    }
    for (const { answer } of answers) {
      if (answer != null) best = Math.max(best, answer.records.filter(Boolean).length + answer.pins.filter(Boolean).length)
    }
    onProgress?.({ phase: `waiting for a peer to take ${what} (${peers.length} connected)`, done: best, total: query.records.length + query.pins.length, unit: 'items' })
    if (Date.now() > deadline) {
      const pins = query.pins.length > 0 ? ' (is a mirror with --pin all connected?)' : ''
      throw new NotReplicatedError(`${what} is published here, but no peer held it within ${waitSeconds} s${pins}; run \`hubless daemon --peer …\` so peers can fetch it`)
    }
    await new Promise(resolve => setTimeout(resolve, 500))
    signal.throwIfAborted()
  }
}
