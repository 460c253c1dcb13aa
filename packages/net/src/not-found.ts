import { ContentNotFoundError } from './errors.ts'
import type { CID } from 'multiformats/cid'

function isNotFound (err: unknown): boolean {
  const name = (err as Error)?.name
  return name === 'NotFoundError' || name === 'BlockNotFoundWhileOfflineError'
}

/** A store's "no such block" as `ContentNotFoundError` naming the root asked for; other errors as they are */
export function notFound (cid: CID, err: unknown): Error {
  if (isNotFound(err)) {
    return new ContentNotFoundError(`Block ${cid} (or one it links to) is not in the local store: ${(err as Error).message}`)
  }
  return err as Error
}
