import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { CarBlockIterator } from '@ipld/car'
import * as raw from 'multiformats/codecs/raw'
import { createGatewayHandler, fixedSizeChunker } from '../src/index.ts'
import { serveGateway } from './gateway-servers.ts'
import { createFixture, randomBytes } from './helpers.ts'
import type { TestServer } from './gateway-servers.ts'
import type { HublessNode } from '../src/index.ts'
import type { CID } from 'multiformats/cid'

describe('trustless gateway handler', () => {
  const fixture = createFixture()
  const data = randomBytes(200_000, 11)
  let node: HublessNode
  let cid: CID
  let server: TestServer

  before(async () => {
    node = await fixture.node()
    cid = await node.content.add(data, { chunker: fixedSizeChunker(50_000) })
    server = await serveGateway(createGatewayHandler(node))
  })

  after(async () => {
    await server?.close()
    await fixture.cleanup()
  })

  it('answers ?format=raw with the single block', async () => {
    const response = await fetch(`${server.url}/ipfs/${cid}?format=raw`)
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('content-type'), 'application/vnd.ipld.raw')
    const body = new Uint8Array(await response.arrayBuffer())
    const local = await node.helia.blockstore.get(cid, { offline: true })
    const chunks: Uint8Array[] = []
    for await (const chunk of local) chunks.push(chunk)
    assert.deepEqual(body, new Uint8Array(Buffer.concat(chunks)))
  })

  it('answers a range of a block (?format=raw) with 206, and says a CAR has no ranges', async () => {
    const block = await fetch(`${server.url}/ipfs/${cid}?format=raw`)
    const bytes = new Uint8Array(await block.arrayBuffer())
    assert.equal(block.headers.get('accept-ranges'), 'bytes')
    const response = await fetch(`${server.url}/ipfs/${cid}?format=raw`, { headers: { range: 'bytes=2-5' } })
    assert.equal(response.status, 206)
    assert.equal(response.headers.get('content-range'), `bytes 2-5/${bytes.byteLength}`)
    assert.deepEqual(new Uint8Array(await response.arrayBuffer()), bytes.subarray(2, 6))
    const car = await fetch(`${server.url}/ipfs/${cid}?format=car`, { headers: { range: 'bytes=2-5' } })
    assert.equal(car.status, 200)
    assert.equal(car.headers.get('accept-ranges'), 'none')
    await car.arrayBuffer()
  })

  it('answers Accept: application/vnd.ipld.car with the DAG as a CAR', async () => {
    const response = await fetch(`${server.url}/ipfs/${cid}`, { headers: { accept: 'application/vnd.ipld.car' } })
    assert.equal(response.status, 200)
    assert.match(response.headers.get('content-type') ?? '', /^application\/vnd\.ipld\.car/)
    const car = await CarBlockIterator.fromBytes(new Uint8Array(await response.arrayBuffer()))
    assert.deepEqual((await car.getRoots()).map(String), [cid.toString()])
    const cids: string[] = []
    for await (const block of car) cids.push(block.cid.toString())
    assert.equal(cids.length, 5, 'root and four leaves')
    const other = await fixture.node()
    const response2 = await fetch(`${server.url}/ipfs/${cid}?format=car`)
    const roots = await other.content.importCar(new Uint8Array(await response2.arrayBuffer()))
    assert.deepEqual(roots.map(String), [cid.toString()])
    assert.deepEqual(await other.content.get(cid, { offline: true }), data)
  })

  it('answers 404 for a CID the node does not hold, without asking the network', async () => {
    const { CID } = await import('multiformats/cid')
    const { sha256 } = await import('multiformats/hashes/sha2')
    const missing = CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode('not here')))
    const response = await fetch(`${server.url}/ipfs/${missing}?format=raw`, { signal: AbortSignal.timeout(5000) })
    assert.equal(response.status, 404)
    assert.match(await response.text(), /ContentNotFoundError/)
  })

  it('answers 400 for a bad CID, 406 without a format, 405 for POST', async () => {
    const bad = await fetch(`${server.url}/ipfs/not-a-cid?format=raw`)
    assert.equal(bad.status, 400)
    assert.match(await bad.text(), /BadCidError/)
    const plain = await fetch(`${server.url}/ipfs/${cid}`)
    assert.equal(plain.status, 406)
    await plain.body?.cancel()
    const post = await fetch(`${server.url}/ipfs/${cid}?format=raw`, { method: 'POST' })
    assert.equal(post.status, 405)
    await post.body?.cancel()
  })

  it('leaves other paths to the caller', async () => {
    const response = await fetch(`${server.url}/api/v0/id`)
    assert.equal(response.status, 404)
    assert.equal(await response.text(), 'not a gateway path\n')
  })
})
