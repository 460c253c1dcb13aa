import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { createNode } from '../src/index.ts'
import { createFixture, waitFor } from './helpers.ts'

describe('configured peers', () => {
  const fixture = createFixture()
  after(async () => { await fixture.cleanup() })

  it('dials `peers` and re-dials them after a disconnect', async () => {
    const a = await fixture.node()
    const b = await fixture.node({ peers: [a.getMultiaddrs()[0]!], redialInterval: 200 })
    const events: string[] = []
    a.events.addEventListener('peer:connect', (evt) => { events.push(`connect ${evt.detail.toString()}`) })
    await waitFor('B to connect to A', () => b.libp2p.getConnections(a.peerId).length > 0)
    await a.libp2p.hangUp(b.peerId)
    events.length = 0
    // A sees the new connection only once B re-dialled it: B's own view may still show the closing one
    await waitFor('B to re-dial A, which reports it as a typed event', () => events.includes(`connect ${b.peerId.toString()}`))
    await waitFor('B to see the new connection', () => b.libp2p.getConnections(a.peerId).length > 0)
  })

  it('dials the bootstrap list', async () => {
    const a = await fixture.node()
    const c = await fixture.node({ bootstrap: [a.getMultiaddrs()[0]!] })
    await waitFor('C to connect to its bootstrap peer', () => c.libp2p.getConnections(a.peerId).length > 0)
  })

  it('rejects a bootstrap address without a peer id', async () => {
    await assert.rejects(createNode({ directory: await fixture.dir(), bootstrap: ['/ip4/127.0.0.1/tcp/4001'] }), { name: 'BadMultiaddrError' })
  })
})
