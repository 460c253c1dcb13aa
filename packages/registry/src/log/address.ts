import * as dagCbor from '@ipld/dag-cbor'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { InvalidRegistryNameError } from '../errors.ts'
import { logSpec } from './access-controller.ts'
import type { LogKind } from './access-controller.ts'

export const DEFAULT_REGISTRY_NAME = 'hubless'
export const DATABASE_TYPE = 'events'

export function checkRegistryName (name: string): void {
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name)) {
    throw new InvalidRegistryNameError(`registry name ${JSON.stringify(String(name).slice(0, 80))} must be 1-64 lowercase letters, digits, ".", "_" or "-"`)
  }
}

/**
 * The OrbitDB address of the registry called `name` (or of its witness log, `log: 'witnesses'`), computed as OrbitDB 4 does (the base58btc
 * CIDv1 of the dag-cbor manifest `{ name, type, accessController }`), without opening anything.
 */
export async function registryAddress (name: string = DEFAULT_REGISTRY_NAME, log: LogKind = 'records'): Promise<string> {
  checkRegistryName(name)
  const bytes = dagCbor.encode({ name, type: DATABASE_TYPE, accessController: logSpec(log).address })
  const cid = CID.createV1(dagCbor.code, await sha256.digest(bytes))
  return `/orbitdb/${cid.toString(base58btc)}`
}
