import {
  buildEndorseRecord, buildRevokeKeyRecord, buildRotateKeyRecord, buildUnendorseRecord, buildYankRecord, createPublisherKey,
  isDidKey, serializeKey
} from '@hubless/registry'
import type { ReleaseRecord, SignedRecord } from '@hubless/registry'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { UsageError } from '../errors.ts'
import { defineOperation } from './operation.ts'
import { dialPeers, waitForHolders } from './hand-over.ts'
import type { HandOverInput } from './hand-over.ts'
import type { OperationContext } from './operation.ts'

/** Records a publisher writes about its own releases and about other keys */

export interface RecordOutput {
  id: string
  kind: string
  publisher: string
  /** peers that hold the record; absent when there was no peer to ask (see `HandOverInput`) */
  heldBy?: string[]
}

/** the peers asked for (or a daemon's) hold the record before the command returns */
async function holders (context: OperationContext, input: HandOverInput, id: string, what: string): Promise<{ heldBy?: string[] }> {
  const heldBy = await waitForHolders(context, input, { records: [id], pins: [] }, what)
  return heldBy == null ? {} : { heldBy }
}

export const yank = defineOperation<{ appId: string, version: string, reason: string } & HandOverInput, RecordOutput & { release: string }, 'yank'>('yank', async (context, input) => {
  const { services, signal } = context
  if (input.reason.trim() === '') throw new UsageError('--reason is required: say why the release is withdrawn')
  const key = await services.publisherKey({ signal })
  await dialPeers(context, input)
  const registry = await services.registry({ signal })
  // the first of this key's releases of the app at that version, looked up in the catalog's index,
  // else in the registry's (a daemon's catalog keeps only the newest releases)
  const release = (await services.catalog({ signal })).releases({ appId: input.appId, publisher: key.did, version: input.version })[0] ??
    await ownRelease(registry.find({ appId: input.appId }, { signal }), key.did, input.version)
  if (release == null) {
    throw new UsageError(`you (${key.did}) published no release ${input.version} of ${input.appId}; only a release's own publisher can yank it`)
  }
  const signed = await registry.publish(buildYankRecord(release, input.reason, { publisher: key.did }), key, { signal })
  return { id: signed.id, kind: 'yank', publisher: key.did, release: release.id, ...await holders(context, input, signed.id, 'the yank') }
})

async function ownRelease (records: AsyncIterable<SignedRecord>, publisher: string, version: string): Promise<SignedRecord<ReleaseRecord> | undefined> {
  for await (const signed of records) {
    const r = signed.record
    if (r.kind === 'release' && r.publisher === publisher && r.version === version) return signed as SignedRecord<ReleaseRecord>
  }
  return undefined
}

export const endorse = defineOperation<{ subject: string, appIds?: string[], until?: number } & HandOverInput, RecordOutput, 'endorse'>('endorse', async (context, input) => {
  const { services, signal } = context
  assertKey(input.subject)
  const key = await services.publisherKey({ signal })
  if (input.subject === key.did) throw new UsageError('a key cannot endorse itself')
  await dialPeers(context, input)
  const registry = await services.registry({ signal })
  const record = buildEndorseRecord(input.subject, { appIds: input.appIds?.length === 0 ? undefined : input.appIds, until: input.until }, { publisher: key.did })
  const signed = await registry.publish(record, key, { signal })
  return { id: signed.id, kind: 'endorse', publisher: key.did, ...await holders(context, input, signed.id, 'the endorsement') }
})

export const unendorse = defineOperation<{ subject: string } & HandOverInput, RecordOutput, 'unendorse'>('unendorse', async (context, input) => {
  const { services, signal } = context
  assertKey(input.subject)
  const key = await services.publisherKey({ signal })
  await dialPeers(context, input)
  const registry = await services.registry({ signal })
  const signed = await registry.publish(buildUnendorseRecord(input.subject, { publisher: key.did }), key, { signal })
  return { id: signed.id, kind: 'unendorse', publisher: key.did, ...await holders(context, input, signed.id, 'the withdrawal') }
})

/**
 * Hands the identity over to a fresh key: the old key signs a rotate-key record, the new one
 * countersigns it, the new key becomes this data dir's key and the old one is kept beside it.
 */
export const rotateKey = defineOperation<HandOverInput, RecordOutput & { newKey: string, retiredKeyFile: string }, 'key-rotate'>('key-rotate', async (context, input) => {
  const { services, signal } = context
  const oldKey = await services.publisherKey({ signal })
  await dialPeers(context, input)
  const newKey = createPublisherKey()
  const registry = await services.registry({ signal })
  const signed = await registry.publish(buildRotateKeyRecord(newKey.did, { publisher: oldKey.did }), oldKey, { signal, newKey })
  const retiredKeyFile = join(services.layout.keys, `retired-${Date.now()}.key`)
  await writeFile(retiredKeyFile, await serializeKey(oldKey, process.env.HUBLESS_KEY_PASSPHRASE), { mode: 0o600 })
  await services.keys.save(newKey, { overwrite: true, passphrase: process.env.HUBLESS_KEY_PASSPHRASE, signal })
  return { id: signed.id, kind: 'rotate-key', publisher: oldKey.did, newKey: newKey.did, retiredKeyFile, ...await holders(context, input, signed.id, 'the rotation') }
})

export const revokeKey = defineOperation<{ since?: number, reason: string } & HandOverInput, RecordOutput & { since: number }, 'key-revoke'>('key-revoke', async (context, input) => {
  const { services, signal } = context
  if (input.reason.trim() === '') throw new UsageError('--reason is required: say why the key is revoked')
  const key = await services.publisherKey({ signal })
  await dialPeers(context, input)
  const since = input.since ?? Date.now()
  const registry = await services.registry({ signal })
  const signed = await registry.publish(buildRevokeKeyRecord(since, input.reason, { publisher: key.did }), key, { signal })
  return { id: signed.id, kind: 'revoke-key', publisher: key.did, since, ...await holders(context, input, signed.id, 'the revocation') }
})

function assertKey (key: string): void {
  if (!isDidKey(key)) throw new UsageError(`"${key}" is not a publisher key; expected did:key:z6Mk…`)
}
