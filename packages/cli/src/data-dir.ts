import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

/**
 * Where everything of one hubless installation lives. The `--data-dir` flag wins over
 * `HUBLESS_DATA_DIR`, which wins over `$XDG_DATA_HOME/hubless` (`~/.local/share/hubless`).
 */
export function resolveDataDir (flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag != null && flag !== '') {
    return resolve(flag)
  }
  if (env.HUBLESS_DATA_DIR != null && env.HUBLESS_DATA_DIR !== '') {
    return resolve(env.HUBLESS_DATA_DIR)
  }
  const xdg = env.XDG_DATA_HOME != null && env.XDG_DATA_HOME !== '' ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share')
  return join(resolve(xdg), 'hubless')
}

export interface DataDirLayout {
  root: string
  /** the libp2p/Helia node: key, blockstore, datastore */
  node: string
  /** publisher keys */
  keys: string
  /** the OrbitDB registry */
  registry: string
  /** the saved query index */
  indexFile: string
  /** whether the last node to open the registry stopped cleanly, and what it saw (registry-state.ts) */
  registryState: string
  /** what a mirror's pinner held at its last clean stop (@hubless/mirror's pinner-state.ts) */
  pinnerState: string
  /** the reader's trust roots */
  trustFile: string
  /** what `hubless install` installed */
  installedFile: string
  /** written by a running daemon: how other commands reach it */
  daemonFile: string
  /** the daemon's local operation API: its Unix socket (0600) and this run's token (0600) */
  apiSocket: string
  apiToken: string
}

export function dataDirLayout (root: string): DataDirLayout {
  return {
    root,
    node: join(root, 'node'),
    keys: join(root, 'keys'),
    registry: join(root, 'registry'),
    indexFile: join(root, 'catalog-index.json'),
    registryState: join(root, 'registry-state.json'),
    pinnerState: join(root, 'pinner-state.json'),
    trustFile: join(root, 'trust.json'),
    installedFile: join(root, 'installed.json'),
    daemonFile: join(root, 'daemon.json'),
    apiSocket: join(root, 'api.sock'),
    apiToken: join(root, 'api-token')
  }
}
