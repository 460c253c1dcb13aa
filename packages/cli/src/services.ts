import { mkdir } from 'node:fs/promises'
import { createNode } from '@hubless/net'
import type { DataDirLayout } from './data-dir.ts'
import type { HublessNode } from '@hubless/net'
import type { AbortOptions } from '@libp2p/interface'

export interface ServicesInit {
  /** libp2p listen addresses; none for a short-lived command */
  listen?: string[]
  /** mDNS on the LAN */
  lan?: boolean
}

/** What operations work with: opened once by the daemon, or for one command by the CLI */
export interface Services {
  readonly layout: DataDirLayout
  readonly node: HublessNode
  stop (): Promise<void>
}

export async function openServices (layout: DataDirLayout, init: ServicesInit, options: AbortOptions = {}): Promise<Services> {
  await mkdir(layout.root, { recursive: true, mode: 0o700 })
  const node = await createNode({
    directory: layout.node,
    listen: init.listen ?? [],
    lan: init.lan ?? false
  })
  options.signal?.throwIfAborted()
  return {
    layout,
    node,
    async stop () {
      await node.stop()
    }
  }
}
