import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createServer } from 'node:http'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { buildReleaseRecord } from '@hubless/registry'
import { tempDir } from '../../../test/helpers/cli.ts'
import { dataDirLayout } from '../src/data-dir.ts'
import { get } from '../src/operations/get.ts'
import { init } from '../src/operations/init.ts'
import { openServices } from '../src/services.ts'
import type { Services } from '../src/services.ts'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'

/** `get` over plain HTTP: verified by SHA-256, and resumed with a Range request after a cut */
describe('hubless get from a record\'s URL', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let services: Services
  let server: Server
  let url: string
  const file = Buffer.alloc(3 * 1024 * 1024)
  for (let i = 0; i < file.length; i++) file[i] = (i * 31 + (i >> 11)) & 0xff
  const sha256 = createHash('sha256').update(file).digest('hex')
  const requests: Array<string | undefined> = []
  let cutFirst = true
  let tamper = false

  before(async () => {
    dir = await tempDir('hubless-get-')
    server = createServer((req, res) => {
      requests.push(req.headers.range)
      const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0)
      const body = tamper ? Buffer.from(file).fill(0, 1000, 2000) : file
      res.writeHead(start > 0 ? 206 : 200, { 'content-length': String(file.length - start), ...(start > 0 ? { 'content-range': `bytes ${start}-${file.length - 1}/${file.length}` } : {}) })
      if (cutFirst) {
        cutFirst = false
        // FIN, not RST: the client gets what was sent, then a connection closed short of content-length
        res.write(body.subarray(start, start + 1024 * 1024), () => { setTimeout(() => res.socket?.end(), 300) })
        return
      }
      res.end(body.subarray(start))
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/MyApp.AppImage`
    services = await openServices(dataDirLayout(join(dir.path, 'd')), {})
    await init.run({ services, signal: AbortSignal.timeout(10_000) }, {})
    const key = await services.publisherKey()
    const registry = await services.registry()
    await registry.publish(buildReleaseRecord({
      appId: 'org.example.Http',
      version: '1.0',
      channel: 'release',
      arch: 'x86_64',
      content: { urls: [url], sha256, size: file.length },
      app: { name: 'Http' }
    }, { publisher: key.did }), key)
  })

  after(async () => {
    await services.stop()
    server.closeAllConnections()
    await new Promise(resolve => server.close(resolve))
    await dir.remove()
  })

  it('resumes a download cut midway, and checks the SHA-256', async () => {
    const output = join(dir.path, 'MyApp.AppImage')
    const cut = await get.run({ services, signal: AbortSignal.timeout(30_000) }, { appId: 'org.example.Http', output }).catch((err: Error) => err)
    assert.equal((cut as Error).name, 'DownloadFailedError', String(cut))
    assert.ok((await stat(`${output}.part`)).size > 0, 'the part fetched before the cut is kept')

    const result = await get.run({ services, signal: AbortSignal.timeout(30_000) }, { appId: 'org.example.Http', output })
    assert.equal(result.sha256, sha256)
    assert.equal(result.verified, true)
    assert.match(requests.at(-1) ?? '', /^bytes=\d+-$/, 'the second run asked only for the rest')
    assert.deepEqual(await readFile(output), file)
    assert.equal((await stat(output)).mode & 0o111, 0o111, 'written executable')
  })

  it('refuses bytes whose SHA-256 does not match, and writes nothing', async () => {
    tamper = true
    const output = join(dir.path, 'Tampered.AppImage')
    await assert.rejects(get.run({ services, signal: AbortSignal.timeout(30_000) }, { appId: 'org.example.Http', output }), { name: 'DownloadFailedError', message: /SHA-256 does not match/ })
    await assert.rejects(stat(output), { code: 'ENOENT' })
    await assert.rejects(stat(`${output}.part`), { code: 'ENOENT' })
  })
})
