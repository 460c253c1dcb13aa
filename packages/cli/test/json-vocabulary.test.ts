import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { dataDirWithTwoApps } from './two-apps.ts'
import { runCli, startCli, tempDir } from '../../../test/helpers/cli.ts'
import { assertSchema } from '../../../test/helpers/schemas.ts'
import type { RunningCli } from '../../../test/helpers/cli.ts'

const APP = 'org.kde.krita'

/** The CLI's --json and the HTTP API speak one vocabulary, written down in packages/cli/schemas */
describe('one JSON vocabulary for the CLI and the HTTP API', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let dataDir: string
  let mirror: RunningCli | undefined
  const cli = async (...args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> =>
    runCli(['--data-dir', dataDir, '--json', ...args], { timeout: 90_000 })
  const offline: Record<string, unknown> = {}

  before(async () => {
    dir = await tempDir()
    dataDir = await dataDirWithTwoApps(dir.path)
    for (const [name, args] of [['search', ['search', 'krita']], ['show', ['show', APP]], ['status', ['status']]] as const) {
      const result = await cli(...args)
      assert.equal(result.code, 0, result.stderr)
      offline[name] = JSON.parse(result.stdout)
    }
    mirror = await startCli(['--data-dir', dataDir, '--json', 'mirror', '--http', '127.0.0.1:0'], { timeout: 120_000 })
  })
  after(async () => {
    await mirror?.stop()
    await dir.remove()
  })

  it('search, show and status without a daemon match the schemas', () => {
    assertSchema('search', offline.search, 'hubless search --json')
    assertSchema('app', offline.show, 'hubless show --json')
    assertSchema('status', offline.status, 'hubless status --json')
  })

  it('the API answers match the same schemas, with the same results as the CLI', async () => {
    const api = (JSON.parse(mirror!.readyLine) as { api: string }).api
    const list = await (await fetch(`${api}/api/v1/apps?q=krita`)).json() as { results: unknown[], apps: unknown[] }
    assertSchema('search', list, 'GET /api/v1/apps')
    assert.deepEqual(list.results, list.apps, 'apps is the same list as results')
    assert.deepEqual(list.results, (offline.search as { results: unknown[] }).results, 'the CLI and the API give the same results')
    const detail = await (await fetch(`${api}/api/v1/apps/${APP}`)).json()
    assertSchema('app', detail, 'GET /api/v1/apps/{appId}')
    assert.deepEqual(detail, offline.show, 'show --json is the API\'s app')
    const missing = await fetch(`${api}/api/v1/apps/org.example.Missing`)
    assert.equal(missing.status, 404)
    assertSchema('error', await missing.json(), 'a 404 of the API')
  })

  it('through the running daemon, the CLI answers the same', async () => {
    const search = await cli('search', 'krita')
    assertSchema('search', JSON.parse(search.stdout), 'hubless search --json through the daemon')
    assert.deepEqual(JSON.parse(search.stdout), offline.search)
    const status = JSON.parse((await cli('status')).stdout) as { savedAt?: string }
    assertSchema('status', status, 'hubless status --json through the daemon')
    assert.equal(status.savedAt, undefined, 'a running node answers itself')
  })

  it('an unknown app exits 1 in get and show alike, a usage error 2, each with a JSON error', async () => {
    for (const args of [['show', 'org.example.Missing'], ['get', 'org.example.Missing', '-o', join(dir.path, 'x.AppImage')]]) {
      const result = await cli(...args)
      assert.equal(result.code, 1, `${args[0]}: ${result.stderr}`)
      const error = JSON.parse(result.stdout) as { error: { name: string } }
      assertSchema('error', error, `${args[0]} --json of an unknown app`)
      assert.equal(error.error.name, 'AppNotFoundError')
    }
    const usage = await cli('search', '--limit', '0')
    assert.equal(usage.code, 2)
    assertSchema('error', JSON.parse(usage.stdout), 'a usage error with --json')
  })
})
