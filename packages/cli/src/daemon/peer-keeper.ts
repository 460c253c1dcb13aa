import { logger } from '@libp2p/logger'
import type { HublessNode } from '@hubless/net'
import type { Multiaddr } from '@multiformats/multiaddr'

const log = logger('hubless:cli:peers')

export interface PeerKeeperInit {
  node: HublessNode
  peers: Multiaddr[]
  /** called once per peer per outage, so a person sees a dead peer without a flood */
  onUnreachable?: (peer: Multiaddr, err: Error) => void
  onConnected?: (peer: Multiaddr) => void
}

export interface PeerKeeper {
  stop (): void
}

const MIN_BACKOFF = 1_000
const MAX_BACKOFF = 30_000

/**
 * Keeps the node connected to the peers the operator named: dials each, and when a connection
 * drops or a dial fails, tries again with exponential backoff until stopped.
 */
export function keepPeersConnected (init: PeerKeeperInit): PeerKeeper {
  const controller = new AbortController()
  for (const peer of init.peers) {
    void keep(peer)
  }

  async function keep (peer: Multiaddr): Promise<void> {
    let backoff = MIN_BACKOFF
    let reported = false
    while (!controller.signal.aborted) {
      try {
        const connection = await init.node.libp2p.dial(peer, { signal: AbortSignal.any([controller.signal, AbortSignal.timeout(10_000)]) })
        backoff = MIN_BACKOFF
        reported = false
        init.onConnected?.(peer)
        await waitForClose(connection.remotePeer.toString())
      } catch (err) {
        if (controller.signal.aborted) {
          return
        }
        log('dial %a failed: %e', peer, err)
        if (!reported) {
          init.onUnreachable?.(peer, err as Error)
          reported = true
        }
      }
      await sleep(backoff, controller.signal)
      backoff = Math.min(backoff * 2, MAX_BACKOFF)
    }
  }

  async function waitForClose (peerId: string): Promise<void> {
    const libp2p = init.node.libp2p
    await new Promise<void>(resolve => {
      const check = (): void => {
        if (controller.signal.aborted || libp2p.getConnections().every(c => c.remotePeer.toString() !== peerId)) {
          libp2p.removeEventListener('connection:close', check)
          controller.signal.removeEventListener('abort', check)
          resolve()
        }
      }
      libp2p.addEventListener('connection:close', check)
      controller.signal.addEventListener('abort', check)
      check()
    })
  }

  return {
    stop () {
      controller.abort()
    }
  }
}

async function sleep (ms: number, signal: AbortSignal): Promise<void> {
  await new Promise<void>(resolve => {
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
    function done (): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
  })
}
