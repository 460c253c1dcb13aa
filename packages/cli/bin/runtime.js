// How the `hubless` command starts Node: which Node, and for a daemon or a mirror which memory
// settings. Plain JavaScript, so that an old Node can read it before handing over; benchmarks
// start their mirror and peer processes with the same settings from here.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'

/**
 * A daemon runs for weeks beside a registry that grows, and a mirror archives files of gigabytes.
 * Measured on a 2 GB AppImage (scripts/bench/add-throughput.ts): V8's young generation grew from
 * 16 to 134 MB during the add, and glibc kept 50-65 MB of freed 1 MiB buffers in its arenas; with
 * these two settings the mirror peaked at 279 MB instead of 405 MB, at the same speed. `gc` is
 * exposed for the memory trim (src/daemon/memory-trim.ts), which hands back the pages V8 keeps
 * pooled after a burst: a plain daemon 35 s after catching up with 100,000 records held 348 MB
 * with these settings, 699 MB without. V8 lets its heap grow to 1.5x what a full collection left,
 * not the up to 4x it picks by itself: a fresh peer catching up with a million records peaked at
 * 776 MB instead of 918 (100,000: ~530 instead of ~647; a mirror's catch-up 715 instead of 807),
 * for ~7% of its rate, spent on more full collections (scripts/bench/registry-scale.ts), and
 * ~150 ms of a million-record mirror's restart (its catalog's load).
 */
export const DAEMON_NODE_FLAGS = ['--max-semi-space-size=8', '--heap-growing-percent=50', '--expose-gc']

/** Where Debian and Ubuntu (multiarch), Fedora and Alpine install jemalloc's shared library */
const JEMALLOC_PATHS = [
  `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu/libjemalloc.so.2`,
  '/usr/lib64/libjemalloc.so.2',
  '/usr/lib/libjemalloc.so.2'
]

/** jemalloc hands freed pages back after a second, from a thread of its own */
export const JEMALLOC_CONF = 'background_thread:true,dirty_decay_ms:1000'

/**
 * The allocator's environment of a daemon or a mirror: glibc's, with a lower mmap threshold
 * (above), or with `HUBLESS_ALLOCATOR=jemalloc` jemalloc where the system has it (Debian:
 * libjemalloc2). glibc is the default (README, "Memory and disk"): with the memory trim's
 * `malloc_trim` it held as little as jemalloc after a catch-up of 100,000 records and ~230 MB
 * less after one of a million; jemalloc's peak was ~100 MB lower. An LD_PRELOAD or MALLOC_CONF
 * already set is kept; `warn` hears that jemalloc was asked for and is missing.
 */
export function daemonEnv (env = process.env, exists = existsSync, warn = () => {}) {
  const settings = { MALLOC_MMAP_THRESHOLD_: '131072' }
  if (env.HUBLESS_ALLOCATOR !== 'jemalloc' || /jemalloc/.test(env.LD_PRELOAD ?? '')) return settings
  const jemalloc = JEMALLOC_PATHS.find(path => exists(path))
  if (jemalloc == null) {
    warn(`hubless: HUBLESS_ALLOCATOR=jemalloc, but no libjemalloc.so.2 in ${JEMALLOC_PATHS.join(', ')} (Debian: apt install libjemalloc2); using the system's allocator\n`)
    return settings
  }
  return {
    ...settings,
    LD_PRELOAD: [env.LD_PRELOAD, jemalloc].filter(Boolean).join(':'),
    MALLOC_CONF: env.MALLOC_CONF ?? JEMALLOC_CONF
  }
}

export const DAEMON_ENV = daemonEnv()

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP']

/** set in the process handed over to, so it does not hand over again */
const HANDED_OVER = 'HUBLESS_REEXEC'

export function handedOver () {
  return process.env[HANDED_OVER] != null
}

/**
 * In the process handed over to: when the one that started it dies, even by SIGKILL (which
 * cannot be passed on), die with it, as if it had been killed itself, rather than live on as an
 * orphan holding the data dir's locks and ports. The IPC channel closes when its other end dies.
 */
export function dieWithLauncher () {
  if (process.channel == null) return
  process.channel.unref()
  process.once('disconnect', () => { process.kill(process.pid, 'SIGKILL') })
}

/** Whether these arguments start a daemon or a mirror, which run until stopped */
export function runsLong (args) {
  const command = commandOf(args)
  return command === 'mirror' || command === 'daemon'
}

/** The command's name: the first argument that is neither a global option nor its value */
function commandOf (args) {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    if (arg === '--data-dir') i++
    else if (!arg.startsWith('-')) return arg
  }
  return undefined
}

/**
 * Runs `script` with `args` in `node`. Where Node can (`process.execve`, Node >= 22.15), the
 * process becomes it: one process, whose PID a service manager signals, and no launcher holding
 * ~50 MB beside a mirror. Elsewhere (an old Node handing over to the bundled one) a child runs it,
 * signals are passed on, and its status is this process's.
 */
export function handOver (node, script, args, { flags = [], env = {} } = {}) {
  const childEnv = { ...process.env, ...env, [HANDED_OVER]: '1' }
  if (typeof process.execve === 'function') {
    try {
      process.execve(node, [node, ...flags, script, ...args], childEnv)
    } catch (err) {
      process.stderr.write(`hubless: cannot start ${node}: ${err.message}\n`)
      process.exit(1)
    }
  }
  const child = spawn(node, [...flags, script, ...args], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'], env: childEnv })
  const passOn = signal => { child.kill(signal) }
  for (const signal of FORWARDED) process.on(signal, passOn)
  child.once('error', err => {
    process.stderr.write(`hubless: cannot start ${node}: ${err.message}\n`)
    process.exit(1)
  })
  child.once('exit', (code, signal) => {
    if (signal == null) process.exit(code ?? 1)
    // end as it ended, so that whoever started `hubless` sees the signal
    for (const forwarded of FORWARDED) process.off(forwarded, passOn)
    process.kill(process.pid, signal)
  })
}
