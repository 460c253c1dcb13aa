import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createGatewayHandler, fixedSizeChunker } from '../src/index.ts'
import { FETCH_LOOKAHEAD, PEER_LOOKAHEAD } from '../src/fetch.ts'
import { serveGateway, serveTampering } from './gateway-servers.ts'
import { createFixture, randomBytes } from './helpers.ts'
import type { TestServer } from './gateway-servers.ts'
import type { HublessNode } from '../src/index.ts'
import type { CID } from 'multiformats/cid'

describe('verified fetch with HTTP fallback', () => {
  const fixture = createFixture()
  const servers: TestServer[] = []
  const data = randomBytes(300_000, 3)
  let holder: HublessNode
  let cid: CID
  let gateway: TestServer
  let liar: TestServer

  before(async () => {
    holder = await fixture.node()
    cid = await holder.content.add(data, { chunker: fixedSizeChunker(64 * 1024) })
    gateway = await serveGateway(createGatewayHandler(holder))
    liar = await serveTampering(gateway.url)
    servers.push(gateway, liar)
  })

  after(async () => {
    await Promise.allSettled(servers.map(async s => s.close()))
    await fixture.cleanup()
  })

  it('gets the content through the holder\'s gateway when no peer is connected', async () => {
    const fetcher = await fixture.node()
    assert.equal(fetcher.libp2p.getConnections().length, 0)
    const result = await fetcher.content.fetch(cid, { gateways: [gateway.url], providerTimeout: 500, signal: AbortSignal.timeout(20_000) })
    assert.equal(result.blocks, 6, 'a root and five 64 KiB leaves')
    assert.equal(result.sources[gateway.url], 6)
    assert.deepEqual(await fetcher.content.get(cid, { offline: true }), data)
  })

  it('takes the blocks from a connected peer when it has them, without asking gateways', async () => {
    const fetcher = await fixture.node()
    await fetcher.dial(holder.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(10_000) })
    const before = liar.requests
    const result = await fetcher.content.fetch(cid, { gateways: [liar.url], providerTimeout: 5000, pin: true, signal: AbortSignal.timeout(20_000) })
    assert.equal(result.sources['peers'], 6)
    assert.equal(liar.requests, before)
    assert.equal(await fetcher.content.isPinned(cid), true)
  })

  it('asks a gateway 8 blocks at a time while it asks peers 64 (FETCH_LOOKAHEAD, PEER_LOOKAHEAD)', async () => {
    const many = randomBytes(120 * 1024, 4)
    const manyCid = await holder.content.add(many, { chunker: fixedSizeChunker(1024) })
    // each answer waits a little, so that the requests the walk has out at once pile up
    const handler = createGatewayHandler(holder)
    let running = 0
    let most = 0
    const slow = await serveGateway(async (req, res) => {
      running++
      most = Math.max(most, running)
      await new Promise(resolve => setTimeout(resolve, 10))
      try {
        return await handler(req, res)
      } finally {
        running--
      }
    })
    servers.push(slow)
    const fetcher = await fixture.node()
    const result = await fetcher.content.fetch(manyCid, { gateways: [slow.url], providerTimeout: 500, signal: AbortSignal.timeout(20_000) })
    assert.equal(result.sources[slow.url], result.blocks)
    assert.equal(most, FETCH_LOOKAHEAD, `at most ${FETCH_LOOKAHEAD} requests at once, and that many: ${most}`)
    assert.deepEqual(await fetcher.content.get(manyCid, { offline: true }), many)
    assert.ok(PEER_LOOKAHEAD > FETCH_LOOKAHEAD)
  })

  it('skips a gateway that serves tampered bytes and uses the next one', async () => {
    const fetcher = await fixture.node()
    const failed: string[] = []
    const before = liar.requests
    const result = await fetcher.content.fetch(cid, {
      gateways: [liar.url, gateway.url],
      providerTimeout: 500,
      signal: AbortSignal.timeout(20_000),
      onProgress: (evt) => {
        if (evt.type === 'hubless:fetch:source-failed') failed.push(evt.detail.source)
      }
    })
    const rejected = result.errors.filter(e => e.name === 'GatewayVerificationError')
    assert.equal(rejected.length, 1, 'the lying gateway is caught once and then not asked again')
    assert.equal(liar.requests - before, 1)
    assert.ok(failed.includes(liar.url))
    assert.equal(result.sources[gateway.url], 6)
    assert.equal(result.sources[liar.url], undefined, 'no block may come from the lying gateway')
    assert.deepEqual(await fetcher.content.get(cid, { offline: true }), data)
  })

  it('waits for peers up to the deadline, then falls back', async () => {
    const fetcher = await fixture.node()
    const bystander = await fixture.node()
    await fetcher.dial(bystander.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(10_000) })
    const started = Date.now()
    const result = await fetcher.content.fetch(cid, { gateways: [gateway.url], providerTimeout: 700, signal: AbortSignal.timeout(20_000) })
    assert.ok(Date.now() - started >= 650, 'peers are given the deadline before the gateway is asked')
    assert.equal(result.errors[0]?.name, 'ContentNotFoundError')
    assert.equal(result.sources[gateway.url], 6)
  })

  it('fails with ContentNotFoundError listing every source when all lie or miss', async () => {
    const fetcher = await fixture.node()
    await assert.rejects(
      fetcher.content.fetch(cid, { gateways: [liar.url, 'http://127.0.0.1:9'], providerTimeout: 200, signal: AbortSignal.timeout(20_000) }),
      (err: Error & { errors?: Error[] }) => {
        assert.equal(err.name, 'ContentNotFoundError')
        assert.deepEqual(err.errors?.map(e => e.name), ['ContentNotFoundError', 'GatewayVerificationError', 'GatewayRequestError'])
        return true
      }
    )
    assert.equal(await fetcher.content.has(cid), false, 'tampered bytes must never reach the blockstore')
  })

  it('rejects a bad gateway URL with BadGatewayUrlError', async () => {
    const fetcher = await fixture.node()
    await assert.rejects(fetcher.content.fetch(cid, { gateways: ['ftp://example'] }), { name: 'BadGatewayUrlError' })
  })
})
