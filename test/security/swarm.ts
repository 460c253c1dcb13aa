/**
 * Real peers for the security and fault suites: a hubless node on 127.0.0.1 with its own temp dir
 * and a registry on it, all stopped and removed by `cleanup()`. Every wait is bounded.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNode } from '@hubless/net'
import { createRegistry } from '@hubless/registry'
import type { HublessNode } from '@hubless/net'
import type { Registry, RegistryInit, SignedRecord } from '@hubless/registry'

export interface Peer {
  node: HublessNode
  registry: Registry
  directory: string
}

export class Swarm {
  readonly dirs: string[] = []
  readonly running = new Set<Peer>()
  readonly nodes = new Set<HublessNode>()
  readonly name: string

  constructor (name = 'security-registry') {
    this.name = name
  }

  async dir (prefix = 'hubless-sec-'): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), prefix))
    this.dirs.push(d)
    return d
  }

  /** a bare node (no registry), stopped by cleanup() */
  async node (directory?: string): Promise<HublessNode> {
    const node = await createNode({ directory: directory ?? await this.dir(), listen: ['/ip4/127.0.0.1/tcp/0'], pubsubHeartbeatInterval: 200 })
    this.nodes.add(node)
    return node
  }

  async start (directory?: string, init: RegistryInit = {}): Promise<Peer> {
    directory ??= await this.dir()
    const node = await createNode({ directory, listen: ['/ip4/127.0.0.1/tcp/0'], pubsubHeartbeatInterval: 200 })
    const registry = await createRegistry({ node }, { name: this.name, announceInterval: 1_000, ...init })
    const peer = { node, registry, directory }
    this.running.add(peer)
    return peer
  }

  async stop (peer: Peer): Promise<void> {
    this.running.delete(peer)
    await peer.registry.stop()
    await peer.node.stop()
  }

  async cleanup (): Promise<void> {
    for (const peer of [...this.running]) await this.stop(peer).catch(() => {})
    for (const node of [...this.nodes]) await node.stop().catch(() => {})
    this.nodes.clear()
    for (const d of this.dirs) await rm(d, { recursive: true, force: true })
    this.dirs.length = 0
  }
}

export async function connect (a: { node: HublessNode } | HublessNode, b: { node: HublessNode } | HublessNode): Promise<void> {
  const from = 'node' in a ? a.node : a
  const to = 'node' in b ? b.node : b
  await from.libp2p.dial(to.libp2p.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(10_000) })
}

export async function ids (registry: Registry): Promise<string[]> {
  const out: string[] = []
  for await (const r of registry.records()) out.push(r.id)
  return out.sort()
}

/** Wait until `registry` holds every id; bounded by `ms` */
export async function waitForRecords (registry: Registry, wanted: Array<string | SignedRecord>, ms = 30_000): Promise<void> {
  const signal = AbortSignal.timeout(ms)
  const want = wanted.map(w => typeof w === 'string' ? w : w.id)
  while (true) {
    const have = new Set(await ids(registry))
    const missing = want.filter(id => !have.has(id))
    if (missing.length === 0) return
    if (signal.aborted) throw new Error(`timed out after ${ms} ms: ${missing.length} of ${want.length} records missing on a peer that holds ${have.size}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

/** Poll `condition` every 50 ms until true; throws `message()` after `ms` */
export async function until (condition: () => boolean | Promise<boolean>, ms: number, message: () => string): Promise<void> {
  const signal = AbortSignal.timeout(ms)
  while (!(await condition())) {
    if (signal.aborted) throw new Error(`${message()} (waited ${ms} ms)`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}
