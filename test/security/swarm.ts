/**
 * Real peers for the security and fault suites: the registry's own test peers (a hubless node on
 * 127.0.0.1 with its own temp dir and a registry on it), here with a chosen registry name, heads
 * re-announced every second, and bare nodes too; all stopped and removed by `cleanup()`.
 * Every wait is bounded.
 */
import type { HublessNode } from '@hubless/net'
import type { PublisherKey, RegistryInit, UnsignedRecord } from '@hubless/registry'
import { Peers, startNode, waitForRecords } from '../../packages/registry/test/peers.ts'
import type { Peer } from '../../packages/registry/test/peers.ts'

export type { Peer } from '../../packages/registry/test/peers.ts'
// every record id, sorted, and a bounded wait for a set of them
export { ids, waitForRecords } from '../../packages/registry/test/peers.ts'

export class Swarm extends Peers {
  readonly nodes = new Set<HublessNode>()
  readonly name: string

  constructor (name = 'security-registry') {
    super()
    this.name = name
  }

  /** a bare node (no registry), stopped by cleanup() */
  async node (directory?: string): Promise<HublessNode> {
    const node = await startNode(directory ?? await this.dir())
    this.nodes.add(node)
    return node
  }

  override async start (directory?: string, init: RegistryInit = {}): Promise<Peer> {
    return super.start(directory, { name: this.name, announceInterval: 1_000, ...init })
  }

  override async startConnected (to: { node: HublessNode }, init: RegistryInit = {}): Promise<Peer> {
    return super.startConnected(to, { name: this.name, announceInterval: 1_000, ...init })
  }

  override async cleanup (): Promise<void> {
    for (const node of [...this.nodes]) await node.stop().catch(() => {})
    this.nodes.clear()
    await super.cleanup()
  }
}

/** Two connected peers of the swarm's registry, both holding `first`, which `a` published as `key` */
export async function honestPair (swarm: Swarm, first: UnsignedRecord, key: PublisherKey): Promise<{ a: Peer, b: Peer, first: string }> {
  const a = await swarm.start()
  const b = await swarm.start()
  await connect(a, b)
  const id = (await a.registry.publish(first, key)).id
  await waitForRecords(b.registry, [id])
  return { a, b, first: id }
}

export async function connect (a: { node: HublessNode } | HublessNode, b: { node: HublessNode } | HublessNode): Promise<void> {
  const from = 'node' in a ? a.node : a
  const to = 'node' in b ? b.node : b
  await from.libp2p.dial(to.libp2p.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(10_000) })
}

/** Poll `condition` every 50 ms until true; throws `message()` after `ms` */
export async function until (condition: () => boolean | Promise<boolean>, ms: number, message: () => string): Promise<void> {
  const signal = AbortSignal.timeout(ms)
  while (!(await condition())) {
    if (signal.aborted) throw new Error(`${message()} (waited ${ms} ms)`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}
