import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createFixture } from './helpers.ts'

const run = promisify(execFile)

async function hasIp (): Promise<boolean> {
  try {
    await run('ip', ['-V'], { timeout: 5000 })
    return true
  } catch {
    return false
  }
}

const isRoot = process.getuid?.() === 0
const skip = !isRoot
  ? 'mDNS runs only inside a network namespace, and creating one needs root (CI runs as root)'
  : !(await hasIp())
      ? 'mDNS runs only inside a network namespace, and the `ip` command (iproute2) is missing'
      : false

describe('mDNS discovery inside a test-made network namespace', { skip }, () => {
  const fixture = createFixture()
  // never the machine's real interfaces: multicast stays on this namespace's loopback
  const namespace = `hubless-mdns-${randomBytes(4).toString('hex')}`
  let created = false

  before(async () => {
    await run('ip', ['netns', 'add', namespace], { timeout: 10_000 })
    created = true
    await run('ip', ['-n', namespace, 'link', 'set', 'lo', 'up', 'multicast', 'on'], { timeout: 10_000 })
    await run('ip', ['-n', namespace, 'route', 'add', '224.0.0.0/4', 'dev', 'lo'], { timeout: 10_000 })
  })

  after(async () => {
    if (created) await run('ip', ['netns', 'delete', namespace], { timeout: 10_000 })
    await fixture.cleanup()
  })

  it('two lan:true nodes discover and connect to each other', async () => {
    const script = fileURLToPath(new URL('./fixtures/mdns-pair.ts', import.meta.url))
    const { stdout } = await run('ip', ['netns', 'exec', namespace, process.execPath, script, await fixture.dir(), await fixture.dir(), '20000'], { timeout: 40_000 })
    const result = JSON.parse(stdout) as { a: string, b: string, connected: boolean }
    assert.notEqual(result.a, result.b)
    assert.equal(result.connected, true)
  })
})
