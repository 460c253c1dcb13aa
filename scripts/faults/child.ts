/**
 * The process the kill loop kills. `writer DIR`: opens a node and the registry in DIR and
 * publishes as fast as it can, printing each record id once its publish returned (acknowledged).
 * `mirror DIR MULTIADDR`: opens the registry in DIR, dials a publishing peer and prints each
 * record id once the registry reported it stored. Either prints `ready` first.
 */
import { createNode } from '@hubless/net'
import { buildReleaseRecord, createPublisherKey, createRegistry } from '@hubless/registry'

const [mode, directory, peer] = process.argv.slice(2)
if ((mode !== 'writer' && mode !== 'mirror') || directory == null || (mode === 'mirror' && peer == null)) {
  console.error('usage: child.ts writer DIR | mirror DIR MULTIADDR')
  process.exit(2)
}
const node = await createNode({ directory, listen: ['/ip4/127.0.0.1/tcp/0'], pubsubHeartbeatInterval: 200 })
const registry = await createRegistry({ node }, { name: 'faults-registry', announceInterval: 1_000 })
if (mode === 'mirror') {
  registry.addEventListener('record', e => { process.stdout.write(`${e.detail.id}\n`) })
  await node.dial(peer!, { signal: AbortSignal.timeout(10_000) })
  process.stdout.write('ready\n')
} else {
  const key = createPublisherKey()
  process.stdout.write('ready\n')
  for (let i = 0; ; i++) {
    const signed = await registry.publish(buildReleaseRecord({
      appId: 'org.faults.Writer',
      version: `${Date.now()}.${i}`,
      channel: 'nightly',
      arch: 'x86_64',
      content: { urls: [`https://example.org/${i}.AppImage`] },
      app: { name: 'Crash test' }
    }, { publisher: key.did }), key)
    process.stdout.write(`${signed.id}\n`)
  }
}
