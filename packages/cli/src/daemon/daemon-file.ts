import { readFile, rm, writeFile } from 'node:fs/promises'

/** What a running daemon records in the data dir so that other commands find it */
export interface DaemonFile {
  pid: number
  peerId: string
  /** the local operation API (`unix:PATH` or `http://127.0.0.1:PORT`); its token is in DATA_DIR/api-token */
  api: string
  /** the public HTTP side (gateway, and a mirror's API and storefront) */
  http: string
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
    const parsed = JSON.parse(text) as Partial<Record<keyof DaemonFile, unknown>> | null
    if (typeof parsed?.api === 'string' && typeof parsed.http === 'string' && typeof parsed.pid === 'number' && typeof parsed.peerId === 'string') {
      return { api: parsed.api, http: parsed.http, pid: parsed.pid, peerId: parsed.peerId }
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
