import { readFile, writeFile } from 'node:fs/promises'
import { isDidKey } from '@hubless/registry/records'
import { UsageError } from './errors.ts'

/**
 * The reader's own trust roots, kept in `DATA_DIR/trust.json`. A root is a publisher key
 * (did:key) whose releases are trusted, and whose endorsements extend trust to other keys.
 */
export interface TrustRoots {
  list (): Promise<string[]>
  add (key: string): Promise<string[]>
  remove (key: string): Promise<string[]>
}

export function createTrustRoots (path: string): TrustRoots {
  async function list (): Promise<string[]> {
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw err
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw new UsageError(`${path} is not JSON; fix or delete it (it lists trusted keys)`)
    }
    const roots = (parsed as { roots?: unknown }).roots
    if (!Array.isArray(roots) || !roots.every(r => typeof r === 'string' && isDidKey(r))) {
      throw new UsageError(`${path} must be {"roots": ["did:key:…", …]}`)
    }
    return roots as string[]
  }

  async function save (roots: string[]): Promise<string[]> {
    await writeFile(path, JSON.stringify({ roots }, null, 2) + '\n', { mode: 0o600 })
    return roots
  }

  return {
    list,
    async add (key) {
      assertKey(key)
      const roots = await list()
      return roots.includes(key) ? roots : await save([...roots, key])
    },
    async remove (key) {
      assertKey(key)
      const roots = await list()
      return roots.includes(key) ? await save(roots.filter(r => r !== key)) : roots
    }
  }
}

function assertKey (key: string): void {
  if (!isDidKey(key)) {
    throw new UsageError(`"${key}" is not a publisher key; expected did:key:z6Mk…`)
  }
}
