/**
 * A bench mirror in a process of its own, holding one AppImage added as `hubless publish` adds
 * it, so that a client measured in the bench's process does not share its event loop.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { addAppImageContent } from '@hubless/mirror'
import { startBenchMirror } from './mirror-node.ts'

export interface MirrorProcess {
  url: string
  /** the CID of the AppImage the mirror holds */
  cid: string
  stop (): Promise<void>
}

export async function startMirrorProcess (directory: string, file: string): Promise<MirrorProcess> {
  const child: ChildProcess = spawn(process.execPath, [import.meta.filename, directory, file], { stdio: ['pipe', 'pipe', 'inherit'] })
  const signal = AbortSignal.timeout(600_000)
  const line = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! })
    lines.once('line', resolve)
    child.once('exit', code => { reject(new Error(`the mirror process exited with ${code} before it was ready`)) })
    signal.addEventListener('abort', () => { reject(new Error('the mirror process was not ready within 600 s')) })
  })
  const { url, cid } = JSON.parse(line) as { url: string, cid: string }
  return {
    url,
    cid,
    async stop () {
      const exited = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
      child.stdin!.end()
      await Promise.race([exited, new Promise(resolve => setTimeout(resolve, 10_000))])
      if (child.exitCode === null) child.kill()
    }
  }
}

if (import.meta.main) {
  const [directory, file] = process.argv.slice(2) as [string, string]
  const mirror = await startBenchMirror(directory)
  const cid = await addAppImageContent(mirror, file, { signal: AbortSignal.timeout(600_000), pin: true })
  process.stdout.write(`${JSON.stringify({ url: mirror.url, cid: cid.toString() })}\n`)
  // the parent closes stdin to stop the mirror
  process.stdin.resume()
  process.stdin.once('end', () => { void mirror.stop().then(() => process.exit(0)) })
}
