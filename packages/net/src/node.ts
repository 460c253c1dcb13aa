import { logger } from '@libp2p/logger'
import { TypedEventEmitter } from 'main-event'
import { createContent } from './content.ts'
import { openDataDir } from './data-dir.ts'
import { BadMultiaddrError, PeerUnreachableError } from './errors.ts'
import { checkGatewayUrl } from './gateway-client.ts'
import { startHelia } from './helia.ts'
import { keepConnected } from './keep-connected.ts'
import { parseMultiaddr } from './multiaddr.ts'
import type { DataDir } from './data-dir.ts'
import type { Content, HublessNode, NodeEvents, NodeHelia, NodeInit, NodeServices } from './index.ts'
import type { AbortOptions, Libp2p, PeerId, PeerInfo } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

const log = logger('hubless:net:node')

export const DEFAULT_PROVIDER_TIMEOUT = 5000
export const DEFAULT_REDIAL_INTERVAL = 10_000

function checkInit (init: NodeInit): void {
  for (const ma of [...(init.listen ?? []), ...(init.announce ?? []), ...(init.peers ?? [])]) {
    parseMultiaddr(ma)
  }
  for (const ma of init.bootstrap ?? []) {
    if (parseMultiaddr(ma).getComponents().find(c => c.name === 'p2p') == null) {
      throw new BadMultiaddrError(`Bootstrap address "${ma}" has no /p2p/<peer id>; bootstrap peers are found by peer id. Add it, or use peers instead.`)
    }
  }
  init.gateways?.forEach(checkGatewayUrl)
}

class Node implements HublessNode {
  readonly peerId: PeerId
  readonly directory: string
  readonly libp2p: Libp2p<NodeServices>
  readonly helia: NodeHelia
  readonly content: Content
  readonly events = new TypedEventEmitter<NodeEvents>()
  readonly #dir: DataDir
  readonly #init: NodeInit
  readonly #stopKeepingConnected: () => void
  #stopped = false

  constructor (init: NodeInit, dir: DataDir, helia: NodeHelia) {
    this.#init = init
    this.#dir = dir
    this.helia = helia
    this.libp2p = helia.libp2p
    this.peerId = helia.libp2p.peerId
    this.directory = dir.directory
    this.content = createContent(helia, {
      gateways: init.gateways ?? [],
      providerTimeout: init.providerTimeout ?? DEFAULT_PROVIDER_TIMEOUT
    }, dir.blockstore, {
      datastore: dir.datastore,
      getMany: async keys => dir.datastore.db.getMany(keys)
    })
    this.libp2p.addEventListener('peer:connect', this.#onConnect)
    this.libp2p.addEventListener('peer:disconnect', this.#onDisconnect)
    this.libp2p.addEventListener('peer:discovery', this.#onDiscovery)
    if (init.lan === true || (init.bootstrap?.length ?? 0) > 0) {
      void this.#dialKnownPeers()
    }
    this.#stopKeepingConnected = keepConnected(this.libp2p, {
      peers: (init.peers ?? []).map(ma => parseMultiaddr(ma)),
      interval: init.redialInterval ?? DEFAULT_REDIAL_INTERVAL,
      dialTimeout: init.dialTimeout ?? 10_000
    })
  }

  /** mDNS answers that arrive while libp2p starts come before the listener above exists. */
  async #dialKnownPeers (): Promise<void> {
    try {
      for (const peer of await this.libp2p.peerStore.all()) {
        if (peer.id.equals(this.peerId) || peer.addresses.length === 0) continue
        this.#onDiscovery(new CustomEvent('peer:discovery', { detail: { id: peer.id, multiaddrs: peer.addresses.map(a => a.multiaddr) } }))
      }
    } catch (err) {
      log('reading the peer store failed - %e', err)
    }
  }

  readonly #onConnect = (evt: CustomEvent<PeerId>): void => {
    this.events.safeDispatchEvent('peer:connect', { detail: evt.detail })
  }

  readonly #onDisconnect = (evt: CustomEvent<PeerId>): void => {
    this.events.safeDispatchEvent('peer:disconnect', { detail: evt.detail })
  }

  readonly #onDiscovery = (evt: CustomEvent<PeerInfo>): void => {
    this.events.safeDispatchEvent('peer:discovery', { detail: evt.detail })
    // libp2p 3 has no auto-dialler: peers found by mDNS or the bootstrap list are dialled here
    if (this.#stopped || this.libp2p.getConnections(evt.detail.id).length > 0) return
    this.libp2p.dial(evt.detail.id, { signal: AbortSignal.timeout(this.#init.dialTimeout ?? 10_000) })
      .catch((err: unknown) => { log('dialling discovered peer %p failed - %e', evt.detail.id, err) })
  }

  getMultiaddrs (): string[] {
    return this.libp2p.getMultiaddrs().map(ma => ma.toString())
  }

  async dial (ma: string | Multiaddr, options: AbortOptions = {}): Promise<PeerId> {
    const address = parseMultiaddr(ma)
    try {
      const connection = await this.libp2p.dial(address, options)
      return connection.remotePeer
    } catch (err) {
      options.signal?.throwIfAborted()
      throw new PeerUnreachableError(`Cannot connect to ${address.toString()}: ${(err as Error).message}. Check that the peer runs and the address (and /p2p/ peer id) is right.`)
    }
  }

  async stop (): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    this.#stopKeepingConnected()
    this.libp2p.removeEventListener('peer:connect', this.#onConnect)
    this.libp2p.removeEventListener('peer:disconnect', this.#onDisconnect)
    this.libp2p.removeEventListener('peer:discovery', this.#onDiscovery)
    try {
      await this.helia.stop()
    } finally {
      await this.#dir.close()
    }
    log('stopped %p', this.peerId)
  }
}

export async function startNode (init: NodeInit, options: AbortOptions): Promise<HublessNode> {
  checkInit(init)
  options.signal?.throwIfAborted()
  const dir = await openDataDir(init.directory)
  let helia: NodeHelia
  try {
    options.signal?.throwIfAborted()
    helia = await startHelia(init, dir)
  } catch (err) {
    await dir.close()
    throw err
  }
  const node = new Node(init, dir, helia)
  log('started %p on %s', node.peerId, node.getMultiaddrs().join(', '))
  return node
}
