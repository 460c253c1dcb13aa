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
  /**
   * Mirror keys trusted as witnesses (`hubless trust add KEY --witness`): what such a key's witness
   * records say a URL served is believed, so an imported release it witnessed downloads by CID,
   * verified against the witnessed SHA-256. The scope is that and nothing else: a witness key's
   * releases and endorsements are not trusted by it.
   */
  witnesses (): Promise<string[]>
  addWitness (key: string): Promise<string[]>
  removeWitness (key: string): Promise<string[]>
}

export function createTrustRoots (path: string): TrustRoots {
  async function read (): Promise<{ roots: string[], witnesses: string[] }> {
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { roots: [], witnesses: [] }
      throw err
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw new UsageError(`${path} is not JSON; fix or delete it (it lists trusted keys)`)
    }
    const { roots, witnesses = [] } = parsed as { roots?: unknown, witnesses?: unknown }
    const keys = (value: unknown): value is string[] => Array.isArray(value) && value.every(r => typeof r === 'string' && isDidKey(r))
    if (!keys(roots) || !keys(witnesses)) {
      throw new UsageError(`${path} must be {"roots": ["did:key:…", …], "witnesses": ["did:key:…", …]}`)
    }
    return { roots, witnesses }
  }

  async function save (trust: { roots: string[], witnesses: string[] }): Promise<void> {
    // "witnesses" only when there are some: the file stays what older versions read
    const shown = trust.witnesses.length > 0 ? trust : { roots: trust.roots }
    await writeFile(path, JSON.stringify(shown, null, 2) + '\n', { mode: 0o600 })
  }

  async function change (scope: 'roots' | 'witnesses', key: string, add: boolean): Promise<string[]> {
    assertKey(key)
    const trust = await read()
    const list = trust[scope]
    if (list.includes(key) === add) return list
    trust[scope] = add ? [...list, key] : list.filter(r => r !== key)
    await save(trust)
    return trust[scope]
  }

  return {
    list: async () => (await read()).roots,
    add: async key => change('roots', key, true),
    remove: async key => change('roots', key, false),
    witnesses: async () => (await read()).witnesses,
    addWitness: async key => change('witnesses', key, true),
    removeWitness: async key => change('witnesses', key, false)
  }
}

function assertKey (key: string): void {
  if (!isDidKey(key)) {
    throw new UsageError(`"${key}" is not a publisher key; expected did:key:z6Mk…`)
  }
}
