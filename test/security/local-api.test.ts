/**
 * The local operation API answers only the user's own `hubless` processes (SECURITY.md, "The
 * local operation API"). Each test replays one way in that worked against the old daemon, where
 * `POST /api/v1/op/{name}` was served on the public HTTP port to every loopback client: a web
 * page's simple cross-origin POST, DNS rebinding, a reverse proxy in front of a mirror.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createPublisherKey } from '@hubless/registry'
import { dataDirLayout } from '../../packages/cli/src/data-dir.ts'
import { startDaemon } from '../../packages/cli/src/daemon/run-daemon.ts'
import { tempDir } from '../helpers/cli.ts'
import type { RunningDaemon } from '../../packages/cli/src/daemon/run-daemon.ts'
import type { DataDirLayout } from '../../packages/cli/src/data-dir.ts'

interface Answer { status: number, body: string }

/** One raw request to the local API, with exactly the headers given (no defaults added but Content-Length) */
async function raw (endpoint: string, init: { method?: string, path?: string, headers: Record<string, string>, body?: string }): Promise<Answer> {
  const socketPath = endpoint.startsWith('unix:') ? endpoint.slice(5) : undefined
  const url = socketPath == null ? new URL(endpoint) : undefined
  const body = init.body ?? ''
  return await new Promise((resolve, reject) => {
    const req = request({
      socketPath,
      host: url?.hostname,
      port: url?.port,
      method: init.method ?? 'POST',
      path: init.path ?? '/api/v1/op/trust',
      headers: { ...init.headers, 'content-length': Buffer.byteLength(body) },
      signal: AbortSignal.timeout(10_000)
    }, res => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', chunk => { text += chunk })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: text }) })
    })
    req.once('error', reject)
    req.end(body)
  })
}

function errorNameOf (answer: Answer): string | undefined {
  try {
    return (JSON.parse(answer.body) as { error?: { name?: string } }).error?.name
  } catch {
    return undefined
  }
}

describe('the local operation API', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let layout: DataDirLayout
  let daemon: RunningDaemon
  let token: string
  let attacker: string

  before(async () => {
    dir = await tempDir('hubless-local-api-')
    layout = dataDirLayout(join(dir.path, 'data'))
    daemon = await startDaemon({ layout, listen: [], peers: [], lan: false, http: { host: '127.0.0.1', port: 0 } })
    token = (await readFile(layout.apiToken, 'utf8')).trim()
    attacker = (await createPublisherKey()).did
  })
  after(async () => {
    await daemon?.stop()
    await dir.remove()
  })

  const addAttacker = (): string => JSON.stringify({ action: 'add', key: attacker })
  const good = (): Record<string, string> => ({ host: 'localhost', 'content-type': 'application/json', authorization: `Bearer ${token}` })

  async function roots (): Promise<string[]> {
    const listed = await raw(daemon.localApi, { headers: good(), body: JSON.stringify({ action: 'list' }) })
    assert.equal(listed.status, 200, listed.body)
    return (JSON.parse(listed.body.trim().split('\n').at(-1) ?? '{}') as { result: { roots: string[] } }).result.roots
  }

  it('is a Unix socket in the data dir that only this user can open, with a token file only this user can read', async () => {
    assert.equal(daemon.localApi, `unix:${layout.apiSocket}`)
    assert.equal((await stat(layout.apiSocket)).mode & 0o777, 0o600, 'api.sock is 0600')
    assert.equal((await stat(layout.apiToken)).mode & 0o777, 0o600, 'api-token is 0600')
    assert.match(token, /^[0-9a-f]{64}$/)
    const daemonFile = JSON.parse(await readFile(layout.daemonFile, 'utf8')) as { api: string, http: string }
    assert.equal(daemonFile.api, daemon.localApi)
    assert.equal(daemonFile.http, daemon.api)
  })

  it('is not served on the public HTTP port: a page\'s text/plain cross-origin POST from loopback changes nothing', async () => {
    const response = await fetch(new URL('/api/v1/op/trust', daemon.api), {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8', origin: 'http://attacker.example' },
      body: addAttacker(),
      signal: AbortSignal.timeout(10_000)
    })
    assert.equal(response.status, 404)
    // what a reverse proxy on the same host sends: a loopback peer, a JSON body, no Origin
    const proxied = await fetch(new URL('/api/v1/op/status', daemon.api), {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.9' }, body: '{}', signal: AbortSignal.timeout(10_000)
    })
    assert.equal(proxied.status, 404)
    assert.equal((await fetch(new URL('/healthz', daemon.api))).status, 200, 'the public side still answers health checks')
    assert.ok(!(await roots()).includes(attacker))
  })

  it('refuses a request that carries an Origin, even with the token', async () => {
    const answer = await raw(daemon.localApi, { headers: { ...good(), origin: 'http://attacker.example' }, body: addAttacker() })
    assert.equal(answer.status, 403)
    assert.equal(errorNameOf(answer), 'ForbiddenOrigin')
    const fetchMetadata = await raw(daemon.localApi, { headers: { ...good(), 'sec-fetch-site': 'cross-site' }, body: addAttacker() })
    assert.equal(errorNameOf(fetchMetadata), 'ForbiddenOrigin')
  })

  it('refuses a forged Host (DNS rebinding)', async () => {
    const answer = await raw(daemon.localApi, { headers: { ...good(), host: 'rebind.attacker.example:7420' }, body: addAttacker() })
    assert.equal(answer.status, 403)
    assert.equal(errorNameOf(answer), 'ForbiddenHost')
  })

  it('refuses a text/plain or form body (what a page can send without a preflight)', async () => {
    for (const type of ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const answer = await raw(daemon.localApi, { headers: { ...good(), 'content-type': type }, body: addAttacker() })
      assert.equal(answer.status, 415, type)
      assert.equal(errorNameOf(answer), 'UnsupportedMediaType')
    }
  })

  it('refuses a request without the token or with a wrong one', async () => {
    const { authorization: _, ...noToken } = good()
    for (const headers of [noToken, { ...good(), authorization: `Bearer ${'0'.repeat(64)}` }, { ...good(), authorization: token }]) {
      const answer = await raw(daemon.localApi, { headers, body: addAttacker() })
      assert.equal(answer.status, 401)
      assert.equal(errorNameOf(answer), 'Unauthorized')
    }
    assert.equal((await raw(daemon.localApi, { method: 'GET', headers: good() })).status, 405)
    assert.ok(!(await roots()).includes(attacker), 'no refused request added a trust root')
  })

  it('runs operations for the user\'s own client', async () => {
    const answer = await raw(daemon.localApi, { path: '/api/v1/op/status', headers: good(), body: '{}' })
    assert.equal(answer.status, 200, answer.body)
    assert.match(answer.body, /"result":\{/)
    assert.equal((await raw(daemon.localApi, { path: '/api/v1/op/status', headers: good(), body: '{' })).status, 400, 'a body that is not JSON')
    assert.equal((await raw(daemon.localApi, { path: '/api/v1/op/nope', headers: good(), body: '{}' })).status, 404)
  })
})

describe('the local operation API on a data dir too deep for a Unix socket', () => {
  it('listens on a random loopback port, checks Host against that literal address, and cleans up', async () => {
    const dir = await tempDir('hubless-local-api-')
    const layout = dataDirLayout(join(dir.path, 'a-data-dir-whose-path-is-too-long-for-a-unix-socket'.repeat(2)))
    const daemon = await startDaemon({ layout, listen: [], peers: [], lan: false, http: { host: '127.0.0.1', port: 0 } })
    try {
      assert.match(daemon.localApi, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.notEqual(daemon.localApi, daemon.api, 'a port of its own, not the public one')
      const token = (await readFile(layout.apiToken, 'utf8')).trim()
      const host = new URL(daemon.localApi).host
      const headers = { host, 'content-type': 'application/json', authorization: `Bearer ${token}` }
      assert.equal((await raw(daemon.localApi, { path: '/api/v1/op/status', headers, body: '{}' })).status, 200)
      const rebound = await raw(daemon.localApi, { path: '/api/v1/op/status', headers: { ...headers, host: `localhost:${new URL(daemon.localApi).port}` }, body: '{}' })
      assert.equal(errorNameOf(rebound), 'ForbiddenHost')
    } finally {
      await daemon.stop()
    }
    assert.equal(existsSync(layout.apiToken), false, 'the token goes with the daemon')
    await dir.remove()
  })
})
