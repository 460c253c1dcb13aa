/// <reference path="../../src/orbitdb.d.ts" />
/** Hand-built OrbitDB entries and a stubbed access controller, for the snapshot import tests */
import * as dagCbor from '@ipld/dag-cbor'
import { toString as bytesToString } from 'uint8arrays/to-string'
import type { PublisherKey } from '../../src/index.ts'
import { hublessAccessController } from '../../src/log/access-controller.ts'
import type { HublessAccessController } from '../../src/log/access-controller.ts'
import { decodeEntry } from '../../src/log/snapshot.ts'
import { sign } from '../../src/records/ed25519.ts'

export const LOG_ID = '/orbitdb/zdpuTestLog'
export const hex = (bytes: Uint8Array): string => bytesToString(bytes, 'base16')

export interface Built { bytes: Uint8Array, hash: string }

/** An OrbitDB entry written by `writer` (identity `identity:<writer did>`), built by hand so that each part can be spoiled */
export async function entryBytes (wire: Uint8Array, writer: PublisherKey, time: number, next: string[], spoil: { entrySig?: boolean, logId?: string } = {}): Promise<Built> {
  const value = { id: spoil.logId ?? LOG_ID, payload: { op: 'ADD', key: null, value: wire }, next, refs: [], clock: { id: hex(writer.publicKey), time }, v: 2 }
  let sig = await sign(dagCbor.encode(value), writer)
  if (spoil.entrySig === true) sig = Uint8Array.from(sig, (b, i) => i === 0 ? b ^ 1 : b)
  const bytes = dagCbor.encode({ ...value, key: hex(writer.publicKey), identity: `identity:${writer.did}`, sig: hex(sig) })
  return { bytes, hash: decodeEntry(bytes).hash }
}

export async function accessController (): Promise<HublessAccessController> {
  let ac: HublessAccessController | undefined
  // identities stubbed: `identity:<did>` names the key of that did; anything else does not verify
  const identities = {
    getIdentity: async (hash: string) => hash.startsWith('identity:') ? { hash, publicKey: hex((await import('../../src/records/did-key.ts')).didToPublicKey(hash.slice(9))) } : undefined,
    verifyIdentity: async () => true
  }
  await hublessAccessController({ accepted () {}, rejected () {} }, created => { ac = created })({ identities, orbitdb: { ipfs: {} } } as never)
  return ac!
}
