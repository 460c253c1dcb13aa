import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { readFile, rm, stat, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { runCli, startCli, tempDir } from '../../../test/helpers/cli.ts'
import type { AddressInfo } from 'node:net'

const REPO = fileURLToPath(new URL('../../../', import.meta.url))

describe('hubless daemon', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  before(async () => { dir = await tempDir() })
  after(async () => { await dir.remove() })

  it('prints its ready line, answers its API, serves other commands, and exits cleanly on SIGTERM', async () => {
    const dataDir = join(dir.path, 'a')
    const daemon = await startCli(['--data-dir', dataDir, '--json', 'daemon', '--http', '127.0.0.1:0'])
    try {
      const ready = JSON.parse(daemon.readyLine) as { peerId: string, multiaddrs: string[], api: string }
      assert.match(ready.peerId, /^12D3Koo/, 'a peer id')
      assert.ok(ready.multiaddrs.length > 0 && ready.multiaddrs.every(ma => ma.startsWith('/ip4/127.0.0.1/tcp/')), `loopback listen addresses, got ${ready.multiaddrs}`)
      assert.match(ready.api, /^http:\/\/127\.0\.0\.1:\d+$/)

      const health = await fetch(new URL('/healthz', ready.api), { signal: AbortSignal.timeout(5_000) })
      assert.equal(health.status, 200)
      assert.equal(((await health.json()) as { peerId: string }).peerId, ready.peerId)

      // the same data dir: `id` must go through the daemon (the LevelDB lock is held)
      const id = await runCli(['--data-dir', dataDir, '--json', 'id'])
      assert.equal(id.code, 0, id.stderr)
      const info = JSON.parse(id.stdout) as { peerId: string, multiaddrs: string[] }
      assert.equal(info.peerId, ready.peerId)
      assert.deepEqual(info.multiaddrs, ready.multiaddrs, 'id reports the daemon\'s live addresses')
      assert.ok(existsSync(join(dataDir, 'daemon.json')))
    } finally {
      const exit = await daemon.stop('SIGTERM')
      assert.equal(exit.code, 0, `clean exit on SIGTERM, stderr: ${daemon.stderr()}`)
    }
    assert.equal(existsSync(join(dataDir, 'daemon.json')), false, 'the daemon removes its address file')
  })

  it('saves the search index soon after the catalog changes, so a killed daemon leaves it current', async () => {
    const dataDir = join(dir.path, 'index')
    const catalogFile = join(dir.path, 'hub.json')
    const entries = JSON.parse(await readFile(join(REPO, 'data', 'appimagehub-apps.json'), 'utf8')) as unknown[]
    await writeFile(catalogFile, JSON.stringify(entries.slice(0, 5)))
    const daemon = await startCli(['--data-dir', dataDir, '--json', 'daemon', '--http', '127.0.0.1:0', '--save-index', '0.3'])
    try {
      // through the daemon: its catalog takes the imported records
      const imported = await runCli(['--data-dir', dataDir, '--json', 'import', 'appimagehub', catalogFile], { timeout: 60_000 })
      assert.equal(imported.code, 0, imported.stderr)
      const search = await runCli(['--data-dir', dataDir, '--json', 'search'])
      assert.equal(search.code, 0, search.stderr)
      const apps = (JSON.parse(search.stdout) as { results: Array<{ appId: string }> }).results.map(a => a.appId)
      assert.ok(apps.length >= 4, `the imported apps are listed: ${apps.join(', ')}`)
      const deadline = Date.now() + 20_000
      let saved = ''
      while (Date.now() < deadline) {
        saved = await readFile(join(dataDir, 'catalog-index.json'), 'utf8').catch(() => '')
        if (apps.every(id => saved.includes(JSON.stringify(id)))) break
        await new Promise(resolve => setTimeout(resolve, 100))
      }
      assert.ok(apps.every(id => saved.includes(JSON.stringify(id))), 'the saved index holds every app while the daemon runs')
    } finally {
      // no chance to save on the way out
      await daemon.stop('SIGKILL')
    }
    const after = await runCli(['--data-dir', dataDir, '--json', 'search'])
    assert.equal(after.code, 0, after.stderr)
    assert.ok((JSON.parse(after.stdout) as { results: unknown[] }).results.length >= 4)

    // a restart that brings nothing new leaves the saved index as it was
    const indexFile = join(dataDir, 'catalog-index.json')
    const written = (await stat(indexFile)).mtimeMs
    const restarted = await startCli(['--data-dir', dataDir, '--json', 'daemon', '--http', '127.0.0.1:0', '--save-index', '0.1'])
    try {
      const through = await runCli(['--data-dir', dataDir, '--json', 'search'])
      assert.equal(through.code, 0, through.stderr)
      assert.ok((JSON.parse(through.stdout) as { results: unknown[] }).results.length >= 4)
      await new Promise(resolve => setTimeout(resolve, 1000))
      assert.equal((await stat(indexFile)).mtimeMs, written, 'not written again')
    } finally {
      const exit = await restarted.stop('SIGTERM')
      assert.equal(exit.code, 0, restarted.stderr())
    }
    assert.equal((await stat(indexFile)).mtimeMs, written, 'nor on the way out')
    const bad = await runCli(['--data-dir', dataDir, 'daemon', '--save-index', 'soon'])
    assert.equal(bad.code, 2, bad.stderr)
    assert.match(bad.stderr, /--save-index "soon" is not a number of seconds/)
  })

  it('keeps the same peer id across restarts and `init` is idempotent', async () => {
    const dataDir = join(dir.path, 'b')
    const first = await runCli(['--data-dir', dataDir, '--json', 'init'])
    assert.equal(first.code, 0, first.stderr)
    const second = await runCli(['--data-dir', dataDir, '--json', 'init'])
    assert.equal(second.code, 0, second.stderr)
    assert.equal((JSON.parse(first.stdout) as { peerId: string }).peerId, (JSON.parse(second.stdout) as { peerId: string }).peerId)
  })

  it('connects to a --peer given on the command line', async () => {
    const a = await startCli(['--data-dir', join(dir.path, 'c1'), '--json', 'daemon', '--http', '127.0.0.1:0'])
    try {
      const readyA = JSON.parse(a.readyLine) as { peerId: string, multiaddrs: string[] }
      const peer = readyA.multiaddrs[0] ?? ""
      const b = await startCli(['--data-dir', join(dir.path, 'c2'), '--json', 'daemon', '--http', '127.0.0.1:0', '--peer', peer])
      try {
        const deadline = Date.now() + 15_000
        let connections: string[] = []
        while (Date.now() < deadline) {
          const id = await runCli(['--data-dir', join(dir.path, 'c2'), '--json', 'id'])
          connections = (JSON.parse(id.stdout) as { connections: string[] }).connections
          if (connections.includes(readyA.peerId)) break
          await new Promise(resolve => setTimeout(resolve, 200))
        }
        assert.ok(connections.includes(readyA.peerId), `b connected to a within 15 s, connections: ${connections}`)
      } finally {
        assert.equal((await b.stop()).code, 0)
      }
    } finally {
      assert.equal((await a.stop()).code, 0)
    }
  })

  describe('errors a user can cause: one line, no stack trace, non-zero exit', () => {
    it('a bad multiaddr', async () => {
      const result = await runCli(['--data-dir', join(dir.path, 'e1'), 'daemon', '--peer', 'not-a-multiaddr'])
      assert.equal(result.code, 2)
      assert.match(result.stderr, /^hubless: --peer "not-a-multiaddr" is not a multiaddr/)
      assert.equal(result.stderr.trim().split('\n').length, 1, `one line, got: ${result.stderr}`)
    })

    it('a port in use', async () => {
      const blocker = createServer()
      await new Promise<void>(resolve => blocker.listen(0, '127.0.0.1', resolve))
      const port = (blocker.address() as AddressInfo).port
      try {
        const result = await runCli(['--data-dir', join(dir.path, 'e2'), 'daemon', '--http', `127.0.0.1:${port}`])
        assert.equal(result.code, 1)
        assert.match(result.stderr, new RegExp(`^hubless: port ${port} on 127.0.0.1 is in use`))
        assert.equal(result.stderr.trim().split('\n').length, 1, `one line, got: ${result.stderr}`)
      } finally {
        await new Promise(resolve => blocker.close(resolve))
      }
    })

    it('a second daemon on the same data dir', async () => {
      const dataDir = join(dir.path, 'e3')
      const first = await startCli(['--data-dir', dataDir, '--json', 'daemon', '--http', '127.0.0.1:0'])
      try {
        const second = await runCli(['--data-dir', dataDir, 'daemon', '--http', '127.0.0.1:0'])
        assert.equal(second.code, 1)
        assert.match(second.stderr, /^hubless: a daemon \(pid \d+\) already runs on /)
      } finally {
        await first.stop()
      }
    })

    it('a data dir locked by a process that left no address', async () => {
      const dataDir = join(dir.path, 'e4')
      const first = await startCli(['--data-dir', dataDir, '--json', 'daemon', '--http', '127.0.0.1:0'])
      try {
        await rm(join(dataDir, 'daemon.json'))
        const id = await runCli(['--data-dir', dataDir, 'id'])
        assert.equal(id.code, 1)
        assert.match(id.stderr, /^hubless: The database .* is in use by another hubless process/)
        assert.equal(id.stderr.trim().split('\n').length, 1, id.stderr)
      } finally {
        await first.stop()
      }
    })

    it('a corrupt node key', async () => {
      const dataDir = join(dir.path, 'e5')
      assert.equal((await runCli(['--data-dir', dataDir, 'init'])).code, 0)
      await writeFile(join(dataDir, 'node', 'peer.key'), 'not a key')
      const id = await runCli(['--data-dir', dataDir, 'id'])
      assert.equal(id.code, 1)
      assert.match(id.stderr, /^hubless: The node key .* is not a valid libp2p private key/)
    })

    it('a bad --http address', async () => {
      const result = await runCli(['--data-dir', join(dir.path, 'e6'), 'daemon', '--peer', '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWGRUVh9UGYTEYMBwEf1ynB9jrLM5cT6v3hLN3Ns3RuPmr', '--http', 'nonsense'])
      assert.equal(result.code, 2)
      assert.match(result.stderr, /^hubless: "nonsense" is not HOST:PORT/)
    })

    it('an unknown command', async () => {
      const result = await runCli(['frobnicate'])
      assert.notEqual(result.code, 0)
      assert.match(result.stderr, /unknown command 'frobnicate'/)
    })
  })

  it('--version and --help', async () => {
    const version = await runCli(['--version'])
    assert.equal(version.code, 0)
    assert.match(version.stdout.trim(), /^\d+\.\d+\.\d+$/)
    const help = await runCli(['--help'])
    assert.equal(help.code, 0)
    for (const command of ['init', 'id', 'daemon']) {
      assert.match(help.stdout, new RegExp(`\\b${command}\\b`))
    }
  })
  it('a plain daemon whose default port is taken listens on a free one and records it; a mirror keeps its port', async () => {
    // hold 127.0.0.1:7420 (or find it held already, by another daemon on this machine)
    const holder = createServer()
    await new Promise<void>(resolve => { holder.once('error', () => { resolve() }).listen(7420, '127.0.0.1', resolve) })
    const dataDir = join(dir.path, 'second')
    const daemon = await startCli(['--data-dir', dataDir, '--json', 'daemon'])
    try {
      const ready = JSON.parse(daemon.readyLine) as { api: string }
      assert.notEqual(new URL(ready.api).port, '7420', 'a free port instead of the taken one')
      const recorded = JSON.parse(await readFile(join(dataDir, 'daemon.json'), 'utf8')) as { http: string }
      assert.equal(recorded.http, ready.api, 'daemon.json says where it listens')
    } finally {
      await daemon.stop()
      holder.close()
    }
    const held = createServer()
    await new Promise<void>(resolve => { held.once('error', () => { resolve() }).listen(7420, '127.0.0.1', resolve) })
    try {
      const mirror = await runCli(['--data-dir', join(dir.path, 'mirror'), 'mirror', '--http', '127.0.0.1:7420'], { timeout: 60_000 })
      assert.equal(mirror.code, 1)
      assert.match(mirror.stderr, /port 7420 on 127\.0\.0\.1 is in use/)
    } finally {
      held.close()
    }
  })
})
