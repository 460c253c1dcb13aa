import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNode } from '../src/index.ts'
import type { HublessNode, NodeInit } from '../src/index.ts'

/** Temp dirs and nodes made by one test file; `cleanup()` in after() stops and removes them all. */
export function createFixture () {
  const dirs: string[] = []
  const nodes: HublessNode[] = []
  return {
    async dir (): Promise<string> {
      const dir = await mkdtemp(join(tmpdir(), 'hubless-net-'))
      dirs.push(dir)
      return dir
    },
    async node (init: Partial<NodeInit> = {}): Promise<HublessNode> {
      const node = await createNode({ directory: init.directory ?? await this.dir(), ...init })
      nodes.push(node)
      return node
    },
    async cleanup (): Promise<void> {
      await Promise.allSettled(nodes.map(async node => node.stop()))
      await Promise.allSettled(dirs.map(async dir => rm(dir, { recursive: true, force: true })))
    }
  }
}

/** Polls `check` until it returns true; throws `what` when `ms` have passed. */
export async function waitFor (what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const signal = AbortSignal.timeout(ms)
  while (!(await check())) {
    if (signal.aborted) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

export function randomBytes (length: number, seed = 1): Uint8Array {
  // deterministic, so a failure can be reproduced
  const bytes = new Uint8Array(length)
  let x = seed >>> 0 || 1
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5
    bytes[i] = x & 0xff
  }
  return bytes
}
