import { logger } from '@libp2p/logger'
import { encodeSignedHeads, headsTopic, signHeads } from '../records/heads.ts'
import type { PublisherKey } from '../records/ed25519.ts'
import type { Registry, RegistryNode } from '../index.ts'
import type { AbortOptions } from '@libp2p/interface'

const log = logger('hubless:registry:heads')

/** ms between a mirror's signed heads announcements */
export const DEFAULT_HEADS_INTERVAL = 30_000

export interface HeadsAnnouncerInit {
  /** the mirror's key; readers list its did:key among their trusted mirrors */
  key: PublisherKey
  /** ms between announcements; default 30 000 */
  interval?: number
}

export interface HeadsAnnouncer {
  /** sign the registry's current heads with the time now and publish them; resolves to the number of peers reached */
  announce (options?: AbortOptions): Promise<number>
  stop (): void
}

/**
 * A mirror's side of freshness: every `interval`, sign "my copy of this registry has these heads
 * and this many records, at this time" and publish it on the registry's heads topic. A reader
 * that stops hearing fresh announcements from every mirror it trusts knows it may be frozen.
 */
export function createHeadsAnnouncer (components: { node: RegistryNode, registry: Pick<Registry, 'status'> }, init: HeadsAnnouncerInit): HeadsAnnouncer {
  const pubsub = components.node.helia.libp2p.services.pubsub
  let stopped = false
  const announce = async (options?: AbortOptions): Promise<number> => {
    const status = await components.registry.status(options)
    const wire = encodeSignedHeads(await signHeads({ registry: status.address, heads: status.heads.slice(0, 64), records: status.records }, init.key))
    try {
      const result = await pubsub.publish(headsTopic(status.address), wire)
      return result.recipients.length
    } catch (err) {
      // nobody listens yet: nothing to do until the next round
      log('announcing heads reached no peer - %e', err)
      return 0
    }
  }
  const timer = setInterval(() => {
    if (!stopped) void announce().catch(err => { log('announcing heads failed - %e', err) })
  }, init.interval ?? DEFAULT_HEADS_INTERVAL)
  timer.unref?.()
  void announce().catch(err => { log('announcing heads failed - %e', err) })
  return {
    announce,
    stop () {
      stopped = true
      clearInterval(timer)
    }
  }
}

/** A reader's side: hand every message on the registry's heads topic to `onHeads` (verify it there, e.g. with a freshness tracker) until the returned function is called */
export function watchHeads (node: RegistryNode, address: string, onHeads: (wire: Uint8Array) => void): () => void {
  const pubsub = node.helia.libp2p.services.pubsub
  const topic = headsTopic(address)
  const listener = (event: CustomEvent<{ topic: string, data: Uint8Array }>): void => {
    if (event.detail.topic === topic) onHeads(event.detail.data)
  }
  pubsub.addEventListener('message', listener)
  pubsub.subscribe(topic)
  return () => {
    pubsub.removeEventListener('message', listener)
    pubsub.unsubscribe(topic)
  }
}
