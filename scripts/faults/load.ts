/**
 * Load for the soak and spam runs: `load.ts MULTIADDR RATE [SECONDS]` opens a registry peer
 * (registry name `hubless`, the mirror's default), dials MULTIADDR and publishes RATE valid
 * release records a second, each from one of a hundred publisher keys, about a thousand apps.
 * Prints `published N` every second; stops after SECONDS (default: until killed).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNode } from '@hubless/net'
import { buildReleaseRecord, createPublisherKey, createRegistry } from '@hubless/registry'

const [peer, rateText, secondsText] = process.argv.slice(2)
const rate = Number(rateText ?? 20)
if (peer == null || !(rate > 0)) {
  console.error('usage: load.ts MULTIADDR RATE [SECONDS]')
  process.exit(2)
}
const directory = await mkdtemp(join(tmpdir(), 'hubless-load-'))
const node = await createNode({ directory, listen: ['/ip4/127.0.0.1/tcp/0'], pubsubHeartbeatInterval: 200 })
const registry = await createRegistry({ node }, { name: 'hubless', announceInterval: 1_000 })
await node.dial(peer, { signal: AbortSignal.timeout(10_000) })
const keys = Array.from({ length: 100 }, () => createPublisherKey())
const words = ['video', 'editor', 'audio', 'player', 'image', 'viewer', 'office', 'terminal', 'browser', 'game', 'chat', 'notes']
let published = 0
let stopping = false
const stop = async (): Promise<void> => {
  if (stopping) return
  stopping = true
  await registry.stop().catch(() => {})
  await node.stop().catch(() => {})
  await rm(directory, { recursive: true, force: true })
  process.exit(0)
}
process.on('SIGTERM', () => { void stop() })
const end = secondsText == null ? Number.POSITIVE_INFINITY : Date.now() + Number(secondsText) * 1000
const ticker = setInterval(() => { process.stdout.write(`published ${published}\n`) }, 1000)
const started = Date.now()
while (!stopping && Date.now() < end) {
  const n = published
  const key = keys[n % keys.length]!
  const app = n % 1000
  await registry.publish(buildReleaseRecord({
    appId: `org.soak.App${app}`,
    version: `1.${Math.floor(n / 1000)}.${n % 1000}`,
    channel: 'release',
    arch: 'x86_64',
    content: { urls: [`https://example.org/${app}/${n}.AppImage`] },
    app: { name: `Soak ${words[app % words.length]} ${app}`, summary: `a ${words[(app + 3) % words.length]} for the soak run`, categories: ['Utility'] }
  }, { publisher: key.did }), key)
  published++
  const due = started + (published * 1000) / rate
  const wait = due - Date.now()
  if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
}
clearInterval(ticker)
process.stdout.write(`published ${published}\n`)
await stop()
