import { makeZsyncControlFile } from '@hubless/appimage'
import { logger } from '@libp2p/logger'
import type { RangedFile } from '@hubless/net'

const log = logger('hubless:mirror:zsync-controls')

export interface ZsyncControlRequest {
  /** the release content's CID: the cache key (the same bytes always give the same control file) */
  cid: string
  file: RangedFile
  filename: string
  /** the release's immutable download URL, relative to the mirror (zsync resolves it against the .zsync's URL) */
  url: string
  mtime: Date
}

export interface ZsyncControls {
  get (request: ZsyncControlRequest): Promise<Uint8Array>
}

export interface ZsyncControlsInit {
  /** bytes of control files kept in memory (about 1/250 of a release's size each); default 64 MiB */
  maxBytes?: number
  /** how long making one may take, in ms; default 10 minutes */
  timeout?: number
}

/**
 * zsync control files of releases, made once per CID from the blocks this node holds and kept in
 * memory, newest use last, within a byte bound; requests for one being made wait for it.
 */
export function createZsyncControls (init: ZsyncControlsInit = {}): ZsyncControls {
  const maxBytes = init.maxBytes ?? 64 * 1024 * 1024
  const timeout = init.timeout ?? 10 * 60_000
  const made = new Map<string, Uint8Array>()
  const making = new Map<string, Promise<Uint8Array>>()
  let bytes = 0

  const keep = (key: string, control: Uint8Array): void => {
    made.set(key, control)
    bytes += control.byteLength
    for (const [oldest, value] of made) {
      if (bytes <= maxBytes || oldest === key) break
      made.delete(oldest)
      bytes -= value.byteLength
    }
  }

  return {
    async get (request) {
      const key = `${request.cid}\n${request.filename}\n${request.url}\n${request.mtime.getTime()}`
      const cached = made.get(key)
      if (cached != null) {
        made.delete(key)
        made.set(key, cached)
        return cached
      }
      let pending = making.get(key)
      if (pending == null) {
        const signal = AbortSignal.timeout(timeout)
        const started = Date.now()
        pending = makeZsyncControlFile({ size: request.file.size, bytes: request.file.read(0, request.file.size, { signal }) }, {
          filename: request.filename,
          urls: [request.url],
          mtime: request.mtime
        }, { signal }).then(control => {
          log('made the control file of %s (%d bytes) in %d ms', request.cid, request.file.size, Date.now() - started)
          keep(key, control)
          return control
        }).finally(() => { making.delete(key) })
        making.set(key, pending)
      }
      return pending
    }
  }
}
