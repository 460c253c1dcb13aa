import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { eventually } from '../../../test/helpers/eventually.ts'
import { startCli, tempDir } from '../../../test/helpers/cli.ts'
import { JEMALLOC_CONF, DAEMON_ENV, DAEMON_NODE_FLAGS, daemonEnv } from '../bin/runtime.js'

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

describe('the allocator of a daemon or a mirror', () => {
  const at = (...paths: string[]) => (path: string) => paths.includes(path)
  const debian = `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu/libjemalloc.so.2`
  const jemalloc = { HUBLESS_ALLOCATOR: 'jemalloc' }

  it('is glibc\'s unless HUBLESS_ALLOCATOR=jemalloc asks', () => {
    assert.deepEqual(daemonEnv({}, at(debian)), { MALLOC_MMAP_THRESHOLD_: '131072' })
  })

  it('is jemalloc where asked and the system has it, with its background thread', () => {
    assert.deepEqual(daemonEnv(jemalloc, at(debian)), { MALLOC_MMAP_THRESHOLD_: '131072', LD_PRELOAD: debian, MALLOC_CONF: JEMALLOC_CONF })
    assert.equal(daemonEnv(jemalloc, at('/usr/lib64/libjemalloc.so.2')).LD_PRELOAD, '/usr/lib64/libjemalloc.so.2')
    const warnings: string[] = []
    assert.deepEqual(daemonEnv(jemalloc, at(), line => { warnings.push(line) }), { MALLOC_MMAP_THRESHOLD_: '131072' }, 'missing: glibc\'s')
    assert.match(warnings.join(''), /HUBLESS_ALLOCATOR=jemalloc, but no libjemalloc/)
  })

  it('keeps what the operator preloads and configures', () => {
    const env = daemonEnv({ ...jemalloc, LD_PRELOAD: '/opt/trace.so', MALLOC_CONF: 'narenas:2' }, at(debian))
    assert.equal(env.LD_PRELOAD, `/opt/trace.so:${debian}`)
    assert.equal(env.MALLOC_CONF, 'narenas:2')
    assert.equal(daemonEnv({ ...jemalloc, LD_PRELOAD: '/usr/local/lib/libjemalloc.so' }, at(debian)).LD_PRELOAD, undefined, 'a jemalloc of its own is not preloaded twice')
  })

  it('is preloaded into a real mirror that asks for it', { skip: existsSync(debian) ? false : 'libjemalloc2 is not installed' }, async () => {
    const dir = await tempDir()
    try {
      const dataDir = join(dir.path, 'j')
      const mirror = await startCli(['--data-dir', dataDir, ...MIRROR_ARGS], { env: jemalloc })
      try {
        const pid = await daemonPid(dataDir)
        assert.match(await readFile(`/proc/${pid}/maps`, 'utf8'), /libjemalloc\.so/, 'jemalloc mapped into the mirror')
        assert.ok((await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0').includes(`MALLOC_CONF=${JEMALLOC_CONF}`))
      } finally {
        assert.equal((await mirror.stop('SIGTERM')).code, 0)
      }
    } finally {
      await dir.remove()
    }
  })
})

describe('hubless mirror and hubless daemon start with a daemon\'s memory settings', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  before(async () => { dir = await tempDir() })
  after(async () => { await dir.remove() })

  it('becomes a process with the flags and environment (execve: one process), which a SIGTERM stops cleanly', async () => {
    const dataDir = join(dir.path, 'a')
    const mirror = await startCli(['--data-dir', dataDir, ...MIRROR_ARGS])
    let pid = 0
    try {
      pid = await daemonPid(dataDir)
      // the launcher became the mirror: no second process holds memory beside it, and its PID is the one signalled
      assert.equal(pid, mirror.child.pid, 'one process')
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')
      for (const flag of DAEMON_NODE_FLAGS) assert.ok(cmdline.includes(flag), `${flag} in ${cmdline.join(' ')}`)
      const environ = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0')
      for (const [name, value] of Object.entries(DAEMON_ENV)) assert.ok(environ.includes(`${name}=${value}`), `${name}=${value} in its environment`)
      // the memory trim's malloc_trim (src/daemon/free-pages.ts) comes through koffi's addon, loaded where the bundle runs
      await eventually('koffi\'s addon mapped into the mirror', async () => /koffi[^\n]*\.node/.test(await readFile(`/proc/${pid}/maps`, 'utf8')) ? true : undefined, 10_000)
    } finally {
      const exit = await mirror.stop('SIGTERM')
      assert.equal(exit.code, 0, `a clean exit passed on, stderr: ${mirror.stderr()}`)
    }
    assert.equal(alive(pid), false)
    assert.equal(existsSync(join(dataDir, 'daemon.json')), false, 'the mirror itself got the SIGTERM and removed its address file')
  })

  it('so does hubless daemon (its memory trim then runs V8\'s collection too)', async () => {
    const dataDir = join(dir.path, 'e')
    const daemon = await startCli(['--data-dir', dataDir, 'daemon', '--http', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0'])
    try {
      const pid = await daemonPid(dataDir)
      assert.equal(pid, daemon.child.pid, 'one process')
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')
      for (const flag of DAEMON_NODE_FLAGS) assert.ok(cmdline.includes(flag), `${flag} in ${cmdline.join(' ')}`)
      const environ = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0')
      for (const [name, value] of Object.entries(DAEMON_ENV)) assert.ok(environ.includes(`${name}=${value}`), `${name}=${value} in its environment`)
    } finally {
      assert.equal((await daemon.stop('SIGTERM')).code, 0, `a clean exit, stderr: ${daemon.stderr()}`)
    }
  })

  it('stops cleanly when SIGTERM arrives twice at once', async () => {
    const dataDir = join(dir.path, 'c')
    const mirror = await startCli(['--data-dir', dataDir, ...MIRROR_ARGS])
    const pid = await daemonPid(dataDir)
    // a service manager signalling every process of a unit, and a shell's kill besides (an old Node's launcher also passes its own on)
    process.kill(pid, 'SIGTERM')
    const exit = await mirror.stop('SIGTERM')
    assert.equal(exit.code, 0, `a clean exit, not one ended by the repeated signal; stderr: ${mirror.stderr()}`)
    assert.equal(alive(pid), false)
    assert.equal(existsSync(join(dataDir, 'daemon.json')), false, 'it stopped as after one SIGTERM: its address file is removed')
    assert.equal(existsSync(join(dataDir, 'catalog-index.json')), true, 'and its saved index written')
  })

  it('a SIGKILL leaves nothing running that holds the data dir', async () => {
    const dataDir = join(dir.path, 'b')
    const mirror = await startCli(['--data-dir', dataDir, ...MIRROR_ARGS])
    const pid = await daemonPid(dataDir)
    await mirror.stop('SIGKILL')
    await eventually('the mirror to be gone', async () => alive(pid) ? undefined : true, 10_000)
    const again = await startCli(['--data-dir', dataDir, ...MIRROR_ARGS])
    await again.stop('SIGTERM')
  })

  it('where Node cannot execve (an old Node handing over to the bundled one), runs the mirror in a child that gets the signals and dies with its launcher', async () => {
    // a Node without process.execve, as Node 20 is
    const env = { NODE_OPTIONS: '--import=data:text/javascript,delete%20process.execve' }
    const dataDir = join(dir.path, 'd')
    const mirror = await startCli(['--data-dir', dataDir, ...MIRROR_ARGS], { env })
    const pid = await daemonPid(dataDir)
    assert.notEqual(pid, mirror.child.pid, 'the mirror runs in a child')
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')
    for (const flag of DAEMON_NODE_FLAGS) assert.ok(cmdline.includes(flag), `${flag} in ${cmdline.join(' ')}`)
    const exit = await mirror.stop('SIGTERM')
    assert.equal(exit.code, 0, `the SIGTERM was passed on and the clean exit passed back; stderr: ${mirror.stderr()}`)
    assert.equal(existsSync(join(dataDir, 'daemon.json')), false, 'the mirror itself got the SIGTERM and removed its address file')

    const killed = await startCli(['--data-dir', dataDir, ...MIRROR_ARGS], { env })
    const child = await daemonPid(dataDir)
    await killed.stop('SIGKILL')
    await eventually('the mirror to die with its launcher', async () => alive(child) ? undefined : true, 10_000)
  })
})
