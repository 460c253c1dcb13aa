import { CID } from 'multiformats/cid'
import { BadCidError } from './errors.ts'

export function parseCid (cid: CID | string): CID {
  if (typeof cid !== 'string') {
    const parsed = CID.asCID(cid)
    if (parsed == null) throw new BadCidError('Expected a CID object or string')
    return parsed
  }
  try {
    return CID.parse(cid.trim())
  } catch (err) {
    throw new BadCidError(`"${cid}" is not a CID (${(err as Error).message}). Expected e.g. bafy… or Qm….`)
  }
}
