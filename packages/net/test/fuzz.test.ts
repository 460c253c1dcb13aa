import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { createGatewayHandler } from '../src/index.ts'
import { serveGateway } from './gateway-servers.ts'
import { createFixture, randomBytes } from './helpers.ts'
import type { TestServer } from './gateway-servers.ts'
import type { HublessNode } from '../src/index.ts'

describe('untrusted input', () => {
  const fixture = createFixture()
  let node: HublessNode
  let server: TestServer
  let car: Uint8Array

  before(async () => {
    node = await fixture.node()
    const cid = await node.content.add(randomBytes(5000, 41))
    const parts: Uint8Array[] = []
    for await (const part of node.content.exportCar(cid)) parts.push(part)
    car = new Uint8Array(Buffer.concat(parts))
    server = await serveGateway(createGatewayHandler(node))
  })

  after(async () => {
    await server?.close()
    await fixture.cleanup()
  })

  it('importCar answers any bytes with a named error or the right roots, never anything else', async () => {
    const target = await fixture.node()
    const named = new Set(['BadCarError', 'BlockVerificationError'])
    await fc.assert(fc.asyncProperty(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        // a real CAR with some bytes changed or cut: the interesting cases
        fc.tuple(fc.nat({ max: car.length - 1 }), fc.integer({ min: 1, max: 255 }), fc.nat({ max: car.length })).map(([at, xor, cut]) => {
          const bytes = car.slice(0, Math.max(cut, 1))
          if (at < bytes.length) bytes[at]! ^= xor
          return bytes
        })
      ),
      async (bytes) => {
        try {
          await target.content.importCar(bytes)
        } catch (err) {
          assert.ok(named.has((err as Error).name), `unexpected ${(err as Error).name}: ${(err as Error).message}`)
        }
      }
    ), { numRuns: 200 })
  })

  it('the gateway answers any path with a 4xx or 200, never a 500 or a dropped connection', async () => {
    await fc.assert(fc.asyncProperty(
      fc.string({ maxLength: 80 }),
      fc.constantFrom('', '?format=raw', '?format=car', '?format=nonsense'),
      async (path, query) => {
        const response = await fetch(`${server.url}/ipfs/${encodeURIComponent(path)}${query}`, { signal: AbortSignal.timeout(5000) })
        await response.arrayBuffer()
        assert.ok([200, 400, 404, 406].includes(response.status), `status ${response.status} for ${path}${query}`)
      }
    ), { numRuns: 150 })
  })
})
