/**
 * Indefinite freeze, end to end: a running mirror announces signed heads with a time; a reader
 * that trusts the mirror's key is fresh while it hears them, and is told its view is stale once
 * the mirror goes quiet for longer than the configured age.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, it } from 'node:test'
import { createFreshnessTracker } from '@hubless/query'
import { watchHeads } from '@hubless/registry'
import { dataDirLayout } from '../../packages/cli/src/data-dir.ts'
import { startMirror } from '../../packages/cli/src/daemon/run-mirror.ts'
import type { RunningMirror } from '../../packages/cli/src/daemon/run-mirror.ts'
import { runCli } from '../helpers/cli.ts'
import { Swarm, until } from './swarm.ts'

const swarm = new Swarm('hubless')
let mirror: RunningMirror | undefined
after(async () => {
  await mirror?.stop().catch(() => {})
  await swarm.cleanup()
})

it('a reader hears a running mirror\'s signed heads, and is told its view is stale once the mirror goes quiet', async () => {
  const data = join(await swarm.dir(), 'mirror')
  assert.equal((await runCli(['--data-dir', data, 'init'])).code, 0)
  mirror = await startMirror({ layout: dataDirLayout(data), listen: ['/ip4/127.0.0.1/tcp/0'], peers: [], lan: false, http: { host: '127.0.0.1', port: 0 }, pin: 'none', headsInterval: 300 })
  const mirrorKey = (await mirror.services.publisherKey()).did
  const address = (await mirror.services.registry()).address
  const reader = await swarm.start()
  const errors: string[] = []
  const tracker = createFreshnessTracker({}, { mirrors: [mirrorKey], maxAge: 2_000, registry: address })
  const unwatch = watchHeads(reader.node, address, wire => { tracker.observe(wire).catch((err: Error) => { errors.push(err.name) }) })
  try {
    await reader.node.dial(mirror.multiaddrs[0]!, { signal: AbortSignal.timeout(10_000) })
    await until(() => !tracker.status().stale, 15_000, () => `no fresh heads from the mirror: ${tracker.status().explanation}`)
    assert.equal(tracker.status().newest?.mirror, mirrorKey)
    assert.deepEqual(errors, [])

    // the mirror freezes (here: it stops); after maxAge the reader is told
    await mirror.stop()
    mirror = undefined
    await until(() => tracker.status().stale, 10_000, () => 'the view never went stale')
    assert.match(tracker.status().explanation, /stale/)
  } finally {
    unwatch()
  }
})
