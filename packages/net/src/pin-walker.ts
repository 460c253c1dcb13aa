import { createUnsafe } from 'multiformats/block'
import { toBytes } from './iterables.ts'
import type { GraphNode, GraphWalker, GraphWalkerComponents, GraphWalkerFactory, WalkOptions } from '@helia/interface'
import type { CID } from 'multiformats/cid'

/**
 * Depth-first walk without a job queue. Helia 7's default walker starts a `Queue` per walk, which
 * costs ~1.8 ms even for a one-block DAG; OrbitDB pins every entry it writes, so that queue halved
 * OrbitDB write throughput (scripts/bench/helia-orbitdb.ts). Each block is visited once.
 */
export function sequentialWalker (): GraphWalkerFactory {
  return (components: GraphWalkerComponents): GraphWalker => ({
    async * walk<T> (root: CID, options: WalkOptions<T> = {}): AsyncGenerator<GraphNode<T>> {
      const maxDepth = options.depth ?? Number.POSITIVE_INFINITY
      const seen = new Set<string>()
      const stack: Array<{ cid: CID, depth: number, path: CID[] }> = [{ cid: root, depth: 0, path: [root] }]
      while (stack.length > 0) {
        options.signal?.throwIfAborted()
        const { cid, depth, path } = stack.pop()!
        const key = cid.toString()
        if (seen.has(key)) continue
        seen.add(key)
        const bytes = await toBytes(components.blockstore.get(cid, options))
        const block = createUnsafe<T, number, number, 0 | 1>({ cid: cid as CID<T, number, number, 0 | 1>, bytes, codec: await components.getCodec(cid.code) })
        yield { block, depth, path }
        if (depth >= maxDepth) continue
        const children: CID[] = []
        for (const [, link] of block.links()) {
          if (options.includeChild?.(link, block) === false) continue
          children.push(link)
        }
        for (let i = children.length - 1; i >= 0; i--) {
          const child = children[i]!
          stack.push({ cid: child, depth: depth + 1, path: [...path, child] })
        }
      }
    }
  })
}
