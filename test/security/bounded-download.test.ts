/**
 * Downloads are bounded: `hubless get` never writes more than the record's size, or, for a record
 * that names a SHA-256 but no size (older records), more than its cap (`maxBytes`, `--max-size`).
 * The catalog here is a stub holding such a record as a reader's catalog shows it, so the test
 * does not depend on the registry still accepting one; the transfer runs against real HTTP
 * servers on 127.0.0.1 and a real node's trustless gateway.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createGatewayHandler, fixedSizeChunker } from '@hubless/net'
import type { HublessNode } from '@hubless/net'
import * as dagPb from '@ipld/dag-pb'
import type { CID } from 'multiformats/cid'
import type { Catalog } from '@hubless/query'
import { get } from '../../packages/cli/src/operations/get.ts'
import type { Services } from '../../packages/cli/src/services.ts'
import { serveEndless, serveGateway } from './servers.ts'
import type { TestServer } from './servers.ts'
import { Swarm } from './swarm.ts'

const MiB = 1024 * 1024
const CAP = MiB
/** what the kernel's socket buffers and the HTTP client's stream may hold beyond what was read */
const MARGIN = 16 * MiB

interface Content { cid?: string, sha256?: string, size?: number, urls: string[] }

/** Services whose catalog holds one release of `appId` with `content`, unchecked, and whose node is `node` */
function servicesWith (appId: string, content: Content, node?: HublessNode): Services {
  const trust = { status: 'unverified', publisher: 'did:key:z6MkStub', explanation: 'a stub publisher' }
  const release = { appId, version: '1.0', channel: 'release', arch: 'x86_64', publisher: trust.publisher, content }
  const catalog = {
    app: (id: string) => id === appId ? { appId, trust, claimants: [] } : undefined,
    latest: (id: string) => id === appId ? release : undefined
  }
  return { node, catalog: async () => catalog as unknown as Catalog } as unknown as Services
}

async function gone (path: string): Promise<boolean> {
  return stat(path).then(() => false, (err: NodeJS.ErrnoException) => err.code === 'ENOENT')
}

/** waits until the server stops counting bytes: the client hung up */
async function settled (sent: { bytes: number }): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const before = sent.bytes
    await sleep(100)
    if (sent.bytes === before) return before
  }
  assert.fail(`the server was still sending after 5 s (${sent.bytes} bytes): the transfer was not aborted`)
}

/** The dag-pb nodes of a UnixFS file (not its raw leaves), from the node holding it */
async function dagNodes (node: HublessNode, root: CID): Promise<number> {
  let count = 0
  const stack = [root]
  while (stack.length > 0) {
    const cid = stack.pop()!
    if (cid.code !== dagPb.code) continue
    count++
    const parts: Uint8Array[] = []
    for await (const part of node.helia.blockstore.get(cid, { offline: true })) parts.push(part)
    for (const link of dagPb.decode(new Uint8Array(Buffer.concat(parts))).Links) stack.push(link.Hash)
  }
  return count
}

describe('bounded downloads', () => {
  const swarm = new Swarm('bounded-download')
  const servers: TestServer[] = []
  after(async () => {
    await Promise.allSettled(servers.map(async s => s.close()))
    await swarm.cleanup()
  })

  it('a URL that never ends, for a record with a SHA-256 and no size, is cut at the cap and nothing is kept', async () => {
    const sent = { bytes: 0 }
    const endless = await serveEndless(sent)
    servers.push(endless)
    const output = join(await swarm.dir(), 'App.AppImage')
    const services = servicesWith('org.bounded.Endless', { sha256: 'ab'.repeat(32), urls: [`${endless.url}/App.AppImage`] })

    const err = await get.run({ services, signal: AbortSignal.timeout(10_000) }, { appId: 'org.bounded.Endless', output, allowUntrusted: true, maxBytes: CAP })
      .then(() => assert.fail('get of an endless URL succeeded'), (e: Error) => e)
    assert.equal(err.name, 'DownloadTooLargeError', `expected DownloadTooLargeError, got ${err.name}: ${err.message}`)
    assert.match(err.message, /1\.0 MiB \(1048576 bytes\)/, 'the message names the limit')
    assert.match(err.message, /--max-size/, 'the message says how to raise it')
    assert.ok(await gone(`${output}.part`), 'the .part file is deleted')
    assert.ok(await gone(output), 'nothing is written')
    const total = await settled(sent)
    assert.ok(total <= CAP + MARGIN, `the server got to send ${total} bytes for a cap of ${CAP}`)
  })

  it('the cap holds for a resumed download: what the .part holds counts toward it', async () => {
    const sent = { bytes: 0, ranges: [] as Array<string | undefined> }
    const endless = await serveEndless(sent)
    servers.push(endless)
    const output = join(await swarm.dir(), 'App.AppImage')
    await writeFile(`${output}.part`, new Uint8Array(CAP - 1000))
    const services = servicesWith('org.bounded.Resumed', { sha256: 'ab'.repeat(32), urls: [`${endless.url}/App.AppImage`] })

    await assert.rejects(get.run({ services, signal: AbortSignal.timeout(10_000) }, { appId: 'org.bounded.Resumed', output, allowUntrusted: true, maxBytes: CAP }), { name: 'DownloadTooLargeError' })
    assert.deepEqual(sent.ranges, [`bytes=${CAP - 1000}-`], 'the download was resumed')
    assert.ok(await gone(`${output}.part`), 'the .part file is deleted')
    const total = await settled(sent)
    assert.ok(total <= MARGIN, `the server got to send ${total} bytes after the first ${CAP - 1000}`)
  })

  it('a URL that sends more than the record\'s size is cut at the size', async () => {
    const sent = { bytes: 0 }
    const endless = await serveEndless(sent)
    servers.push(endless)
    const output = join(await swarm.dir(), 'App.AppImage')
    const size = 300_000
    const services = servicesWith('org.bounded.Sized', { sha256: 'ab'.repeat(32), size, urls: [`${endless.url}/App.AppImage`] })

    // a larger cap does not loosen the record's size
    await assert.rejects(get.run({ services, signal: AbortSignal.timeout(10_000) }, { appId: 'org.bounded.Sized', output, allowUntrusted: true, maxBytes: 64 * MiB }), (err: Error) => {
      assert.equal(err.name, 'DownloadFailedError', `${err.name}: ${err.message}`)
      assert.match(err.message, /more than the record's size of 300000 bytes/)
      return true
    })
    assert.ok(await gone(`${output}.part`), 'the .part file is deleted')
    const total = await settled(sent)
    assert.ok(total <= size + MARGIN, `the server got to send ${total} bytes for a size of ${size}`)
  })

  it('by CID, a DAG over the cap is fetched no further than the cap and nothing is written', async () => {
    const holder = await swarm.node()
    const data = randomBytes(3 * MiB)
    const cid = await holder.content.add(data, { chunker: fixedSizeChunker(64 * 1024) })
    const gateway = await serveGateway(createGatewayHandler(holder))
    servers.push(gateway)
    const fetcher = await swarm.node()

    // the net layer: a fetch stops once its blocks pass maxBytes
    await assert.rejects(fetcher.content.fetch(cid, { gateways: [gateway.url], maxBytes: 256 * 1024, signal: AbortSignal.timeout(10_000) }), { name: 'ContentTooLargeError' })
    const asked = gateway.requests
    // the DAG's nodes above its leaves (a content-defined DAG has a few), the 4 leaves under the
    // limit and the one that passes it, plus at most the 8 requests a gateway gets at once
    // (fetch.ts; the walk loads 64 ahead, and each block's bytes count before its turn passes on):
    // bounded by the nodes, not by the leaves however many
    const nodes = await dagNodes(holder, cid)
    assert.ok(asked <= nodes + 5 + 8, `the fetch asked the gateway for ${asked} blocks (${nodes} of them DAG nodes) of 64 KiB leaves under a limit of 256 KiB`)

    const output = join(await swarm.dir(), 'App.AppImage')
    const sha256 = createHash('sha256').update(data).digest('hex')
    const services = servicesWith('org.bounded.Cid', { cid: cid.toString(), sha256, urls: [] }, fetcher)
    const err = await get.run({ services, signal: AbortSignal.timeout(20_000) }, { appId: 'org.bounded.Cid', output, allowUntrusted: true, gateways: [gateway.url], maxBytes: CAP })
      .then(() => assert.fail('get of a 3 MiB file under a 1 MiB cap succeeded'), (e: Error) => e)
    assert.equal(err.name, 'DownloadTooLargeError', `expected DownloadTooLargeError, got ${err.name}: ${err.message}`)
    assert.match(err.message, /--max-size/)
    assert.ok(await gone(`${output}.part`), 'the .part file is deleted')
    assert.ok(await gone(output), 'nothing is written')
    assert.ok(gateway.requests - asked < 48, `get fetched all ${gateway.requests - asked} blocks of a DAG over its cap`)
  })
})
