/**
 * A mirror for benchmarks, built from the packages' public entry points as an operator's own
 * program would: a node, a registry, a catalog over it and `createMirror` on 127.0.0.1.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { createMirror, importAppImageHub } from '@hubless/mirror'
import { createNode } from '@hubless/net'
import { createCatalog } from '@hubless/query'
import { createPublisherKey, createRegistry } from '@hubless/registry'
import type { HublessNode } from '@hubless/net'
import type { Catalog } from '@hubless/query'
import type { Registry } from '@hubless/registry'

/** The AppImageHub catalog the project ships */
export const EMBEDDED_CATALOG = join(import.meta.dirname, '..', '..', '..', 'data', 'appimagehub-apps.json')

export interface BenchMirror {
  url: string
  multiaddrs: string[]
  node: HublessNode
  registry: Registry
  catalog: Catalog
  stop (): Promise<void>
}

export async function startBenchMirror (directory: string, init: { seed?: string } = {}): Promise<BenchMirror> {
  await mkdir(directory, { recursive: true })
  const node = await createNode({ directory: join(directory, 'node'), listen: ['/ip4/127.0.0.1/tcp/0'], lan: false, peers: [], gateways: [] })
  const registry = await createRegistry({ node }, { directory: join(directory, 'registry') })
  const catalog = await createCatalog({ source: registry }, { roots: [] })
  if (init.seed != null) await importAppImageHub({ registry, catalog }, { file: init.seed, key: createPublisherKey() })
  const mirror = await createMirror({ node, registry, catalog }, { http: { host: '127.0.0.1', port: 0 }, pin: 'none' })
  await mirror.start()
  return {
    url: mirror.url,
    multiaddrs: node.getMultiaddrs(),
    node,
    registry,
    catalog,
    async stop () {
      await mirror.stop()
      await catalog.stop()
      await registry.stop()
      await node.stop()
    }
  }
}
