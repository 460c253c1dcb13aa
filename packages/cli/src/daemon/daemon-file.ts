import { readFile, rm, writeFile } from 'node:fs/promises'

/** What a running daemon records in the data dir so that other commands find its API */
export interface DaemonFile {
  pid: number
  api: string
  peerId: string
}

export async function writeDaemonFile (path: string, info: DaemonFile): Promise<void> {
  await writeFile(path, JSON.stringify(info) + '\n', { mode: 0o600 })
}

export async function readDaemonFile (path: string): Promise<DaemonFile | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch {
    return undefined
  }
  try {
    const parsed: unknown = JSON.parse(text)
    if (typeof parsed === 'object' && parsed !== null && 'api' in parsed && typeof parsed.api === 'string' &&
      'pid' in parsed && typeof parsed.pid === 'number' && 'peerId' in parsed && typeof parsed.peerId === 'string') {
      return { api: parsed.api, pid: parsed.pid, peerId: parsed.peerId }
    }
  } catch {}
  return undefined
}

/** Removes the file only if it still names this process: a newer daemon may have replaced it */
export async function removeDaemonFile (path: string, pid: number): Promise<void> {
  const current = await readDaemonFile(path)
  if (current == null || current.pid === pid) {
    await rm(path, { force: true })
  }
}

/** Whether a process with this pid exists (it may belong to another user: EPERM still means alive) */
export function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
