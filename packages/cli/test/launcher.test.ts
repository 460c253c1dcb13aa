import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { eventually } from '../../../test/helpers/eventually.ts'
import { startCli, tempDir } from '../../../test/helpers/cli.ts'
import { MIRROR_ENV, MIRROR_NODE_FLAGS } from '../bin/runtime.js'

const MIRROR_ARGS = ['mirror', '--http', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0', '--pin', 'none']

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function daemonPid (dataDir: string): Promise<number> {
  return (JSON.parse(await readFile(join(dataDir, 'daemon.json'), 'utf8')) as { pid: number }).pid
}

describe('hubless mirror starts with a mirror\'s memory settings', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  before(async () => { dir = await tempDir() })
  after(async () => { await dir.remove() })

  it('runs in a process with the flags and environment, which a SIGTERM to the launcher stops cleanly', async () => {
    const dataDir = join(dir.path, 'a')
    const mirror = await startCli(['--data-dir', dataDir, ...MIRROR_ARGS])
    let pid = 0
    try {
      pid = await daemonPid(dataDir)
      assert.notEqual(pid, mirror.child.pid, 'the mirror runs in a process of its own')
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')
      for (const flag of MIRROR_NODE_FLAGS) assert.ok(cmdline.includes(flag), `${flag} in ${cmdline.join(' ')}`)
      const environ = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0')
      for (const [name, value] of Object.entries(MIRROR_ENV)) assert.ok(environ.includes(`${name}=${value}`), `${name}=${value} in its environment`)
    } finally {
      const exit = await mirror.stop('SIGTERM')
      assert.equal(exit.code, 0, `a clean exit passed on, stderr: ${mirror.stderr()}`)
    }
    assert.equal(alive(pid), false)
    assert.equal(existsSync(join(dataDir, 'daemon.json')), false, 'the mirror itself got the SIGTERM and removed its address file')
  })

  it('stops cleanly when a service manager sends SIGTERM to the launcher and the mirror at once', async () => {
    const dataDir = join(dir.path, 'c')
    const mirror = await startCli(['--data-dir', dataDir, ...MIRROR_ARGS])
    const pid = await daemonPid(dataDir)
    // systemd's default (KillMode=control-group) signals every process of the unit; the launcher passes its own on too
    process.kill(pid, 'SIGTERM')
    const exit = await mirror.stop('SIGTERM')
    assert.equal(exit.code, 0, `a clean exit, not one ended by the repeated signal; stderr: ${mirror.stderr()}`)
    assert.equal(alive(pid), false)
    assert.equal(existsSync(join(dataDir, 'daemon.json')), false, 'it stopped as after one SIGTERM: its address file is removed')
    assert.equal(existsSync(join(dataDir, 'catalog-index.json')), true, 'and its saved index written')
  })

  it('dies with its launcher when the launcher is killed with SIGKILL, freeing the data dir', async () => {
    const dataDir = join(dir.path, 'b')
    const mirror = await startCli(['--data-dir', dataDir, ...MIRROR_ARGS])
    const pid = await daemonPid(dataDir)
    await mirror.stop('SIGKILL')
    await eventually('the mirror to die with its launcher', async () => alive(pid) ? undefined : true, 10_000)
    const again = await startCli(['--data-dir', dataDir, ...MIRROR_ARGS])
    await again.stop('SIGTERM')
  })
})
