/**
 * Fuzzing every HTTP endpoint of a real running mirror (a `hubless mirror` process) with
 * fast-check: path traversal, oversized and malformed parameters, bad methods, bad bodies. Every
 * case must end in a named error or a 4xx (or a 2xx/3xx where the request is fine) — never a 5xx,
 * a dropped connection or a dead process — and the log must hold the same records afterwards.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { buildReleaseRecord, createPublisherKey } from '@hubless/registry'
import { runCli, startCli, tempDir } from '../helpers/cli.ts'
import type { RunningCli } from '../helpers/cli.ts'
import { Swarm, until } from './swarm.ts'

const RUNS = Number(process.env.HUBLESS_FUZZ_RUNS ?? 500)

interface Answer { status: number, body: string }

/** A raw request: the path goes out exactly as given (fetch would normalise `..` away) */
async function send (base: URL | { socketPath: string }, method: string, path: string, body?: string | Uint8Array, headers: Record<string, string> = {}): Promise<Answer> {
  const target = base instanceof URL ? { host: base.hostname, port: base.port } : base
  return await new Promise((resolve, reject) => {
    // a fresh connection each time, so that one case's closed socket is not another's failure
    const req = request({ ...target, method, path, headers, agent: false, signal: AbortSignal.timeout(20_000) }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => { chunks.push(c) })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }) })
      res.on('error', reject)
    })
    req.on('error', err => {
      // Node's HTTP parser answers a request line over 16 KiB with 431 and closes at once; a client
      // still writing sees the reset instead. Count it as the 431 it is.
      if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' && path.length > 16 * 1024) resolve({ status: 431, body: '' })
      else reject(err)
    })
    req.end(body)
  })
}

/** http.request refuses some paths itself (control characters); such a case never reached the server */
function sendable (path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i)
    if (code <= 0x20 || code >= 0x7f) return false
  }
  return true
}

const segment = fc.oneof(
  fc.constantFrom('..', '.', '%2e%2e', '%2E%2E%2F', '..%2f', '%00', '%ff', '%', '%E0%A4%A', '~', '//', 'etc', 'passwd', '%5c..%5c', 'index.html', 'storefront', 'CON', '*'),
  fc.webSegment(),
  fc.string({ maxLength: 30 }).map(s => encodeURIComponent(s)),
  fc.nat({ max: 5000 }).map(n => 'A'.repeat(n))
)
const cidLike = fc.constantFrom(
  'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi', 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG',
  'bafkqaaa', 'zdpuAnything', 'b', 'Qm', 'bafy' + 'a'.repeat(2000)
)
const prefix = fc.constantFrom('/', '/api/v1/apps', '/api/v1/apps/', '/api/v1/records/', '/api/v1/status', '/api/v1/', '/api/', '/feed.json',
  '/readyz', '/healthz', '/metrics', '/ipfs/', '/ipns/', '/api/v1/op/', '/storefront/', '/assets/', '/static/', '/favicon.ico')
const queryParam = fc.tuple(
  fc.constantFrom('q', 'category', 'channel', 'arch', 'trusted', 'page', 'pageSize', 'sort', 'free', 'publisher', 'format', 'filename', 'download', 'dag-scope', 'entity-bytes', fc.webSegment() as unknown as string),
  fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('-1', '0', '1e309', 'NaN', '99999999999999999999', 'raw', 'car', 'tar', 'true', 'maybe', '../../etc/passwd'), fc.nat({ max: 20_000 }).map(n => 'x'.repeat(n)))
)
const path = fc.tuple(prefix, fc.oneof(cidLike, fc.array(segment, { maxLength: 6 }).map(s => s.join('/'))), fc.array(queryParam, { maxLength: 5 }), fc.boolean())
  .map(([p, rest, params, repeat]) => {
    const q = params.map(([k, v]) => `${encodeURIComponent(String(k))}=${encodeURIComponent(v)}`).join('&')
    const base = p.endsWith('/') || rest === '' ? p + rest : `${p}/${rest}`
    return (repeat ? base.replaceAll('/', '//') : base) + (q === '' ? '' : `?${q}`)
  })
const method = fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND', 'FOO')

describe('HTTP endpoints of a running mirror under fuzzing', () => {
  const swarm = new Swarm('hubless')
  let dir: Awaited<ReturnType<typeof tempDir>>
  let mirror: RunningCli
  let api: URL
  /** the local operation API (a Unix socket in the data dir) and the headers our own client sends */
  let local: { socketPath: string }
  let localHeaders: Record<string, string>
  let recordsBefore = 0
  const tally = { cases: 0, statuses: new Map<number, number>() }

  async function records (): Promise<number> {
    const status = JSON.parse((await send(api, 'GET', '/api/v1/status')).body) as { registry: { records: number } }
    return status.registry.records
  }

  function check (what: string, answer: Answer): void {
    tally.cases++
    tally.statuses.set(answer.status, (tally.statuses.get(answer.status) ?? 0) + 1)
    assert.ok(answer.status >= 200 && answer.status < 500, `${what} answered ${answer.status}: ${answer.body.slice(0, 300)}`)
    assert.equal(mirror.child.exitCode, null, `the mirror exited after ${what}`)
  }

  before(async () => {
    dir = await tempDir('hubless-fuzz-')
    const data = join(dir.path, 'mirror')
    assert.equal((await runCli(['--data-dir', data, 'init'])).code, 0)
    mirror = await startCli(['--data-dir', data, '--json', 'mirror', '--http', '127.0.0.1:0', '--pin', 'none'], { timeout: 60_000 })
    const ready = JSON.parse(mirror.readyLine) as { api: string, multiaddrs: string[] }
    api = new URL(ready.api)
    const daemonFile = JSON.parse(await readFile(join(data, 'daemon.json'), 'utf8')) as { api: string }
    local = { socketPath: daemonFile.api.replace(/^unix:/, '') }
    localHeaders = { host: 'localhost', 'content-type': 'application/json', authorization: `Bearer ${(await readFile(join(data, 'api-token'), 'utf8')).trim()}` }
    // a few real records, replicated into the mirror by a publishing peer
    const author = await swarm.start()
    await author.node.dial(ready.multiaddrs[0]!, { signal: AbortSignal.timeout(10_000) })
    const key = createPublisherKey()
    for (let i = 0; i < 5; i++) {
      await author.registry.publish(buildReleaseRecord({
        appId: `org.fuzz.App${i}`, version: `1.${i}`, channel: 'release', arch: 'x86_64',
        content: { urls: [`https://example.org/${i}.AppImage`] }, app: { name: `Fuzz ${i}`, summary: 'fuzz target' }
      }, { publisher: key.did }), key)
    }
    await until(async () => (await records()) === 5, 30_000, () => 'the mirror did not replicate the 5 records')
    recordsBefore = await records()
  })

  after(async () => {
    console.log(`# ${tally.cases} HTTP cases; statuses ${JSON.stringify(Object.fromEntries([...tally.statuses].sort((a, b) => a[0] - b[0])))}`)
    await swarm.cleanup()
    await mirror?.stop()
    await dir?.remove()
  })

  it('answers arbitrary paths, parameters and methods with a 2xx-4xx, never a 5xx or a crash', async () => {
    await fc.assert(fc.asyncProperty(method, path, async (m, p) => {
      if (!sendable(p)) return
      check(`${m} ${p.slice(0, 200)}`, await send(api, m, p))
    }), { numRuns: RUNS })
  })

  it('path traversal never leaves the storefront or gateway', async () => {
    const traversals = ['/../../../../etc/passwd', '/..%2f..%2f..%2fetc%2fpasswd', '/%2e%2e/%2e%2e/etc/passwd', '/storefront/../../package.json',
      '/ipfs/../../etc/passwd', '/api/v1/apps/..%2f..%2fstatus', '/api/v1/records/..%2F..%2Fstatus', '//etc/passwd', '/.%2e/.%2e/etc/passwd',
      '/static/..%5c..%5cpackage.json', '/index.html/../../../etc/hostname', '/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd']
    for (const p of traversals) {
      const answer = await send(api, 'GET', p)
      check(`GET ${p}`, answer)
      assert.doesNotMatch(answer.body, /root:x:0:0|"name": "hubless-monorepo"|"packageManager"/, `${p} leaked a file`)
    }
  })

  it('the local operation API refuses bad methods, unknown operations and malformed bodies with named errors', async () => {
    const ops = ['status', 'search', 'show', 'node-info', 'trust', 'no-such-op', 'STATUS', '../status']
    const body = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.json().map(j => j),
      fc.constantFrom('{', '[]', 'null', '1', '"x"', '{"query": {"$gt": ""}}', '{"limit": -1}', '{"limit": 1e309}', '{"appId": "../../etc"}', '{"appId": null}', '{"add": "not a key"}', '{"query": ' + '['.repeat(5000) + '}')
    )
    await fc.assert(fc.asyncProperty(fc.constantFrom(...ops), fc.constantFrom('POST', 'POST', 'GET', 'PUT'), body, async (op, m, b) => {
      const answer = await send(local, m, `/api/v1/op/${op}`, b, localHeaders)
      check(`${m} /api/v1/op/${op} ${b.slice(0, 80)}`, answer)
      if (answer.status === 200) {
        // a stream of NDJSON lines ending in a result or a named error
        const last = JSON.parse(answer.body.trim().split('\n').at(-1)!) as { result?: unknown, error?: { name: string } }
        if (last.error != null) assert.ok(/^[A-Z][A-Za-z]+Error$|^[A-Z][A-Za-z]+$/.test(last.error.name) && !['Error', 'TypeError', 'RangeError', 'SyntaxError'].includes(last.error.name), `unnamed error ${JSON.stringify(last.error)} for ${op} ${b.slice(0, 80)}`)
      }
    }), { numRuns: Math.max(50, Math.ceil(RUNS / 3)) })
    const huge = new Uint8Array(2 * 1024 * 1024).fill(0x20)
    check('an oversized body', await send(local, 'POST', '/api/v1/op/search', huge, localHeaders))
    assert.equal((await send(api, 'POST', '/api/v1/op/status', '{}', { 'content-type': 'application/json' })).status, 404, 'the public port serves no operations')
  })

  it('leaves the log unchanged and the mirror healthy', async () => {
    assert.equal(await records(), recordsBefore, 'the record count changed under fuzzing')
    assert.equal((await send(api, 'GET', '/healthz')).status, 200)
    const stopped = await mirror.stop('SIGTERM')
    assert.equal(stopped.code, 0, `the mirror exited with ${stopped.code} ${stopped.signal}: ${mirror.stderr().slice(-2000)}`)
  })
})
