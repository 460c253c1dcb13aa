import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNode } from '@hubless/net'
import { Level } from 'level'
import { createRegistry, registryAddress } from '../src/index.ts'
import type { HublessNode } from '@hubless/net'
import type { Registry, RegistryInit, SignedRecord } from '../src/index.ts'

export interface Peer {
  node: HublessNode
  registry: Registry
  directory: string
}

/** Temp dirs and running peers of one test, all cleaned up by cleanup() */
export class Peers {
  readonly dirs: string[] = []
  readonly running = new Set<Peer>()

  async dir (): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), 'hubless-registry-'))
    this.dirs.push(d)
    return d
  }

  async start (directory?: string, init: RegistryInit = { name: 'test-registry' }): Promise<Peer> {
    directory ??= await this.dir()
    const node = await startNode(directory)
    const registry = await createRegistry({ node }, init)
    const peer = { node, registry, directory }
    this.running.add(peer)
    return peer
  }

  /**
   * A new peer started as `hubless` starts: its node connects to `to` and hears it on the
   * registry's topic before it opens the registry, so OrbitDB heard no peer join
   */
  async startConnected (to: { node: HublessNode }, init: RegistryInit = { name: 'test-registry' }): Promise<Peer> {
    const directory = await this.dir()
    const node = await startNode(directory)
    let registry: Registry
    try {
      await node.libp2p.dial(to.node.libp2p.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(10_000) })
      const topic = await registryAddress(init.name ?? 'test-registry')
      const heard = AbortSignal.timeout(10_000)
      while (!node.libp2p.services.pubsub.getSubscribers(topic).some(p => p.equals(to.node.libp2p.peerId))) {
        if (heard.aborted) throw new Error(`${to.node.libp2p.peerId} was not heard on ${topic} within 10 s`)
        await new Promise(resolve => setTimeout(resolve, 20))
      }
      registry = await createRegistry({ node }, init)
    } catch (err) {
      await node.stop()
      throw err
    }
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
    for (const peer of [...this.running]) {
      await this.stop(peer).catch(() => {})
    }
    for (const d of this.dirs) await rm(d, { recursive: true, force: true })
    this.dirs.length = 0
  }
}

/** A hubless node on 127.0.0.1 in `directory`, gossiping every 200 ms */
export async function startNode (directory: string): Promise<HublessNode> {
  return createNode({ directory, listen: ['/ip4/127.0.0.1/tcp/0'], pubsubHeartbeatInterval: 200 })
}

export async function connect (a: Peer, b: Peer): Promise<void> {
  await a.node.libp2p.dial(b.node.libp2p.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(10_000) })
}

export async function ids (registry: Registry): Promise<string[]> {
  const out: string[] = []
  for await (const r of registry.records()) out.push(r.id)
  return out.sort()
}

/** Wait until `registry` holds every id, polling; bounded by `ms` */
export async function waitForRecords (registry: Registry, wanted: Array<string | SignedRecord>, ms = 30_000): Promise<void> {
  const signal = AbortSignal.timeout(ms)
  const want = wanted.map(w => typeof w === 'string' ? w : w.id)
  while (true) {
    const have = new Set(await ids(registry))
    const missing = want.filter(id => !have.has(id))
    if (missing.length === 0) return
    if (signal.aborted) throw new Error(`timed out after ${ms} ms waiting for ${missing.length} of ${want.length} records (${missing.join(", ")}) on ${registry.name} at ${registry.address}, which has ${have.size}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

/** Where a peer's log index LevelDB is (the record index is its `records` sublevel), the record index's frames, and where older versions kept the record cache file */
export function indexPaths (peer: Peer): { index: string, frames: string, legacy: string } {
  const zdpu = peer.registry.address.split('/').pop()!
  const log = join(peer.directory, 'registry', 'orbitdb', zdpu, 'log')
  return { index: join(log, '_index'), frames: join(log, '_frames'), legacy: join(peer.directory, 'registry', `${zdpu}.records`) }
}

/** What the tests do with the record index's keys */
export interface RecordKeys {
  get (key: string): Promise<Uint8Array | undefined>
  put (key: string, value: Uint8Array): Promise<void>
  values (options: { gte: string, lt: string }): AsyncIterable<Uint8Array>
  clear (): Promise<void>
}

/** Run `fn` on the record index keys of a stopped peer (or, `where` is 'frames', on its frames) */
export async function withRecordKeys<T> (peer: Peer, fn: (records: RecordKeys) => Promise<T>, where: 'index' | 'frames' = 'index'): Promise<T> {
  const db = new Level<string, Uint8Array>(indexPaths(peer)[where], { valueEncoding: 'view' })
  try {
    return await fn(db.sublevel<string, Uint8Array>('records', { keyEncoding: 'utf8', valueEncoding: 'view' }) as unknown as RecordKeys)
  } finally {
    await db.close()
  }
}

/** What a stop in the middle of the background pinning leaves: the record index does not know that any pin was checked */
export async function forgetPinsChecked (peer: Peer): Promise<void> {
  await withRecordKeys(peer, async records => {
    const meta = JSON.parse(new TextDecoder().decode(await records.get('m!'))) as { pinnedThrough: number }
    meta.pinnedThrough = 0
    await records.put('m!', new TextEncoder().encode(JSON.stringify(meta)))
  })
}
