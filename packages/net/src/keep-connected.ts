import { logger } from '@libp2p/logger'
import type { NodeServices } from './index.ts'
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

const log = logger('hubless:net:keep-connected')

export interface KeepConnectedInit {
  peers: Multiaddr[]
  interval: number
  dialTimeout: number
}

/**
 * Dials each peer now and again every `interval` ms while it is not connected. libp2p's own
 * reconnect queue gives up after a few attempts; a daemon told `--peer X` should not.
 */
export function keepConnected (libp2p: Libp2p<NodeServices>, init: KeepConnectedInit): () => void {
  const known = new Map<string, PeerId>()
  let stopped = false
  const pending = new Set<string>()

  const check = (): void => {
    for (const ma of init.peers) {
      const key = ma.toString()
      const peerId = known.get(key)
      if (stopped || pending.has(key) || (peerId != null && libp2p.getConnections(peerId).length > 0)) continue
      pending.add(key)
      libp2p.dial(ma, { signal: AbortSignal.timeout(init.dialTimeout) })
        .then((connection) => { known.set(key, connection.remotePeer) })
        .catch((err: unknown) => { log('dialling %a failed, will retry in %d ms - %e', ma, init.interval, err) })
        .finally(() => { pending.delete(key) })
    }
  }

  check()
  const timer = setInterval(check, init.interval)
  // a kept connection is not a reason for the process to stay alive; stop() is
  timer.unref()
  return () => {
    stopped = true
    clearInterval(timer)
  }
}
