/** Runs the `hubless` command as a user would: a real process, its own data dir, bounded waits */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'

export const HUBLESS_BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'packages', 'cli', 'bin', 'hubless.js')

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Environment for a child: no DEBUG (errors must be one line), no inherited data dir */
export function cliEnv (extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra }
  delete env.DEBUG
  delete env.HUBLESS_DATA_DIR
  return env
}

export async function runCli (args: string[], options: { timeout?: number, env?: Record<string, string>, input?: string } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [HUBLESS_BIN, ...args], { env: cliEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] })
  child.stdin.end(options.input ?? '')
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', chunk => { stdout += String(chunk) })
  child.stderr.on('data', chunk => { stderr += String(chunk) })
  const timeout = options.timeout ?? 60_000
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`hubless ${args.join(' ')} did not finish within ${timeout} ms\nstdout: ${stdout}\nstderr: ${stderr}`))
    }, timeout)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

export interface RunningCli {
  child: ChildProcessWithoutNullStreams
  /** the first line the process printed on stdout (a daemon's ready line) */
  readyLine: string
  stdout (): string
  stderr (): string
  /** sends a signal and waits (bounded) for the exit */
  stop (signal?: NodeJS.Signals, timeout?: number): Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

/** Starts a long-running command and resolves once it printed its first stdout line */
export async function startCli (args: string[], options: { timeout?: number, env?: Record<string, string> } = {}): Promise<RunningCli> {
  const child = spawn(process.execPath, [HUBLESS_BIN, ...args], { env: cliEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', chunk => { stderr += String(chunk) })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => {
    child.on('close', (code, signal) => { resolve({ code, signal }) })
  })
  const timeout = options.timeout ?? 60_000
  const readyLine = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`hubless ${args.join(' ')} printed no line within ${timeout} ms\nstderr: ${stderr}`))
    }, timeout)
    child.stdout.on('data', chunk => {
      stdout += String(chunk)
      const newline = stdout.indexOf('\n')
      if (newline >= 0) {
        clearTimeout(timer)
        resolve(stdout.slice(0, newline))
      }
    })
    void exited.then(({ code }) => {
      clearTimeout(timer)
      reject(new Error(`hubless ${args.join(' ')} exited (${code}) before its ready line\nstderr: ${stderr}`))
    })
  })
  return {
    child,
    readyLine,
    stdout: () => stdout,
    stderr: () => stderr,
    async stop (signal = 'SIGTERM', stopTimeout = 30_000) {
      if (child.exitCode == null && child.signalCode == null) {
        child.kill(signal)
      }
      const timer = setTimeout(() => { child.kill('SIGKILL') }, stopTimeout)
      try {
        return await exited
      } finally {
        clearTimeout(timer)
      }
    }
  }
}

export async function tempDir (prefix = 'hubless-test-'): Promise<{ path: string, remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix))
  return { path, remove: async () => { await rm(path, { recursive: true, force: true }) } }
}
