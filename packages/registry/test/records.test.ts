import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as dagCbor from '@ipld/dag-cbor'
import {
  buildEndorseRecord, buildRevokeKeyRecord, buildRotateKeyRecord, buildYankRecord, createPublisherKey,
  decodeSignedRecord, didToPublicKey, encodeSignedRecord, findPreviousRelease, findRelease, isValidAppId, MAX_RECORD_BYTES,
  publicKeyToDid, publisherKeyFromSecret, recordFromJSON, recordToJSON, signRecord, validateRecord, verifyRecord
} from '../src/records/index.ts'
import type { UnsignedRecord } from '../src/records/index.ts'
import { releaseRecord, signedRelease } from './fixtures.ts'

async function rejects (p: Promise<unknown> | (() => unknown), name: string): Promise<void> {
  await assert.rejects(async () => { await (typeof p === 'function' ? p() : p) }, (err: Error) => {
    assert.equal(err.name, name, `expected ${name}, got ${err.name}: ${err.message}`)
    return true
  })
}

describe('did:key', () => {
  it('round-trips an Ed25519 key and names it z6Mk…', () => {
    const key = createPublisherKey()
    assert.match(key.did, /^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]+$/)
    assert.deepEqual(didToPublicKey(key.did), key.publicKey)
    assert.equal(publicKeyToDid(key.publicKey), key.did)
  })

  it('matches the did:key spec test vector', () => {
    // https://w3c-ccg.github.io/did-method-key/ Ed25519 example
    const did = 'did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp'
    assert.equal(publicKeyToDid(didToPublicKey(did)), did)
  })

  it('rejects other key types and garbage', async () => {
    await rejects(() => didToPublicKey('did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme'), 'InvalidPublisherKeyError')
    await rejects(() => didToPublicKey('did:web:example.org'), 'InvalidPublisherKeyError')
    await rejects(() => didToPublicKey('did:key:z6Mk0OIl'), 'InvalidPublisherKeyError')
  })

  it('derives the same key from the same seed', () => {
    const a = createPublisherKey()
    assert.equal(publisherKeyFromSecret(a.secretKey).did, a.did)
  })
})

describe('signRecord / verifyRecord', () => {
  it('signs, encodes, decodes and verifies a release', async () => {
    const key = createPublisherKey()
    const signed = await signedRelease(key)
    assert.match(signed.id, /^bafyrei/)
    const wire = encodeSignedRecord(signed)
    const back = await decodeSignedRecord(wire)
    assert.equal(back.id, signed.id)
    assert.deepEqual(back.record, signed.record)
    assert.deepEqual((await verifyRecord(signed)).record, signed.record)
  })

  it('gives the same id and bytes whatever the field order', async () => {
    const key = createPublisherKey()
    const r = releaseRecord(key)
    const reordered = Object.fromEntries(Object.entries(r).reverse()) as unknown as UnsignedRecord
    assert.equal((await signRecord(reordered, key)).id, (await signRecord(r, key)).id)
  })

  it('refuses to sign for another publisher', async () => {
    await rejects(signRecord(releaseRecord(createPublisherKey()), createPublisherKey()), 'InvalidPublisherKeyError')
  })

  it('rejects a signature by another key', async () => {
    const a = createPublisherKey()
    const b = createPublisherKey()
    const signed = await signedRelease(a)
    const other = await signRecord({ ...signed.record, publisher: b.did }, b)
    await rejects(verifyRecord({ ...signed, signature: other.signature }), 'InvalidSignatureError')
  })

  it('rejects a record object that differs from the signed bytes', async () => {
    const signed = await signedRelease()
    await rejects(verifyRecord({ ...signed, record: { ...signed.record, version: '9.9.9' } }), 'MalformedRecordError')
    await rejects(verifyRecord({ ...signed, id: 'bafyreigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi' }), 'MalformedRecordError')
  })

  it('requires the countersignature of a rotate-key record', async () => {
    const old = createPublisherKey()
    const next = createPublisherKey()
    const record = buildRotateKeyRecord(next.did, { publisher: old.did, time: 1 })
    await rejects(signRecord(record, old), 'InvalidSignatureError')
    const signed = await signRecord(record, old, { newKey: next })
    assert.ok(signed.countersignature)
    const back = await decodeSignedRecord(encodeSignedRecord(signed))
    assert.deepEqual(back.countersignature, signed.countersignature)
    const { countersignature: _, ...without } = signed
    await rejects(verifyRecord(without), 'InvalidSignatureError')
    await rejects(verifyRecord({ ...signed, countersignature: signed.signature }), 'InvalidSignatureError')
  })

  it('rejects a countersignature on other kinds', async () => {
    const signed = await signedRelease()
    await rejects(verifyRecord({ ...signed, countersignature: signed.signature }), 'MalformedRecordError')
  })

  it('round-trips through JSON that a client can verify', async () => {
    const key = createPublisherKey()
    const signed = await signRecord(buildRotateKeyRecord(createPublisherKey().did, { publisher: key.did }), key, {
      newKey: undefined as never
    }).catch(() => undefined)
    assert.equal(signed, undefined)
    const rel = await signedRelease(key)
    const text = JSON.stringify(recordToJSON(rel))
    const back = await recordFromJSON(text)
    assert.equal(back.id, rel.id)
    assert.deepEqual(back.bytes, rel.bytes)
    const tampered = JSON.parse(text)
    tampered.record.version = '6.6.6'
    await rejects(recordFromJSON(tampered), 'MalformedRecordError')
    tampered.id = (await signRecord({ ...rel.record, version: '6.6.6' }, key)).id
    await rejects(recordFromJSON(tampered), 'InvalidSignatureError')
    await rejects(recordFromJSON('{"id":'), 'MalformedRecordError')
  })
})

describe('record ids', () => {
  it('are the CIDv1 (dag-cbor, sha2-256) of the record bytes, in Node and where there is no node:crypto', async () => {
    const { CID } = await import('multiformats/cid')
    const { sha256 } = await import('multiformats/hashes/sha2')
    const { recordIdOf } = await import('../src/records/codec.ts')
    // the module as a browser loads it: no process.getBuiltinModule, so WebCrypto through multiformats
    const builtin = process.getBuiltinModule
    let browser: typeof import('../src/records/codec.ts')
    try {
      (process as { getBuiltinModule?: unknown }).getBuiltinModule = undefined
      browser = await import(new URL('../src/records/codec.ts?no-node-crypto', import.meta.url).href) as typeof import('../src/records/codec.ts')
    } finally {
      process.getBuiltinModule = builtin
    }
    for (const size of [0, 1, 55, 56, 64, 1000, 70_000]) {
      const bytes = new Uint8Array(size).map((_, i) => (i * 31 + size) & 0xff)
      const expected = CID.createV1(dagCbor.code, await sha256.digest(bytes)).toString()
      assert.equal(await recordIdOf(bytes), expected)
      assert.equal(await browser.recordIdOf(bytes), expected)
    }
  })
})

describe('schema', () => {
  const key = createPublisherKey()
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['unknown kind', { kind: 'delete' }, 'UnknownRecordKindError'],
    ['bad channel', { channel: 'stable' }, 'InvalidChannelError'],
    ['bad app id', { appId: 'krita' }, 'InvalidAppIdError'],
    ['app id with a space', { appId: 'org.kde.kri ta' }, 'InvalidAppIdError'],
    ['empty version', { version: '' }, 'InvalidFieldError'],
    ['long version', { version: '1'.repeat(129) }, 'InvalidFieldError'],
    ['version with a space', { version: '1 0' }, 'InvalidFieldError'],
    ['float time', { time: 1.5 }, 'InvalidFieldError'],
    ['negative time', { time: -1 }, 'InvalidFieldError'],
    ['schema version 2', { v: 2 }, 'InvalidFieldError'],
    ['unknown field', { extra: 1 }, 'InvalidFieldError'],
    ['bad publisher', { publisher: 'did:web:x' }, 'InvalidFieldError'],
    ['ftp url', { content: { urls: ['ftp://example.org/x'] } }, 'InvalidFieldError'],
    ['javascript url', { content: { urls: ['javascript:alert(1)'] } }, 'InvalidFieldError'],
    ['bad cid', { content: { cid: 'bafynotacid', urls: [] } }, 'InvalidFieldError'],
    ['bad sha256', { content: { sha256: 'ABC', urls: ['https://x.org/a'] } }, 'InvalidFieldError'],
    ['negative size', { content: { size: -1, urls: ['https://x.org/a'] } }, 'InvalidFieldError'],
    ['no content at all', { content: { urls: [] } }, 'InvalidFieldError'],
    ['previous not a record id', { previous: 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi' }, 'InvalidFieldError'],
    ['app without name', { app: { summary: 'x' } }, 'InvalidFieldError'],
    ['escape in name', { app: { name: 'a\u001b[31m' } }, 'InvalidFieldError']
  ]
  for (const [what, patch, name] of cases) {
    it(`rejects ${what} with ${name}`, async () => {
      await rejects(() => validateRecord({ ...releaseRecord(key), ...patch }), name)
      await rejects(signRecord({ ...releaseRecord(key), ...patch } as UnsignedRecord, key), name)
    })
  }

  it('rejects an oversize record', async () => {
    const big = releaseRecord(key, { app: { name: 'Big', keywords: Array.from({ length: 64 }, () => 'k'.repeat(64)), description: 'd'.repeat(16 * 1024) } })
    big.app.screenshots = Array.from({ length: 32 }, (_, i) => `https://example.org/${'p'.repeat(2000)}${i}`)
    await signRecord(big, key).then(() => assert.fail('expected the record to be too big'), (err: Error) => {
      assert.equal(err.name, 'OversizeRecordError')
    })
    const small = await signedRelease(key)
    const wire = dagCbor.encode({ r: new Uint8Array(MAX_RECORD_BYTES + 1), s: small.signature })
    await rejects(decodeSignedRecord(wire), 'OversizeRecordError')
  })

  it('accepts every kind', async () => {
    const other = createPublisherKey()
    const rel = await signedRelease(key)
    for (const record of [
      buildYankRecord(rel, 'broken build', { publisher: key.did }),
      buildEndorseRecord(other.did, { appIds: ['org.example.App'], until: 2_000_000_000_000 }, { publisher: key.did }),
      buildEndorseRecord(other.did, {}, { publisher: key.did }),
      buildRevokeKeyRecord(0, 'laptop stolen', { publisher: key.did })
    ]) {
      const signed = await signRecord(record, key)
      assert.equal((await decodeSignedRecord(encodeSignedRecord(signed))).id, signed.id)
    }
  })

  it('follows AppStream rules for app ids', () => {
    for (const ok of ['org.kde.krita', 'io.github.user.4kwall', 'org.gnome.gedit.desktop', 'com.example.My_App', 'net.sf.x-y']) {
      assert.ok(isValidAppId(ok), ok)
    }
    for (const bad of ['krita', 'org.kde', '1org.kde.krita', 'org..krita', 'org.kde.-krita', 'org.kde.krita.', 'org.kdé.krita', 'org/kde/krita', '']) {
      assert.ok(!isValidAppId(bad), bad)
    }
  })
})

describe('findPreviousRelease', () => {
  it('finds the head of the chain', async () => {
    const key = createPublisherKey()
    const first = await signRecord(releaseRecord(key, {}, 1), key)
    const second = await signRecord(releaseRecord(key, { previous: first.id }, 2), key)
    const otherChannel = await signRecord(releaseRecord(key, { channel: 'beta' }, 3), key)
    assert.equal(findPreviousRelease([second, first, otherChannel], { publisher: key.did, appId: 'org.example.App', channel: 'release' })?.id, second.id)
    assert.equal(findPreviousRelease([], { publisher: key.did, appId: 'org.example.App', channel: 'release' }), undefined)
    assert.equal(findRelease([first, second, otherChannel], { publisher: key.did, appId: 'org.example.App', version: '1.0.2' })?.id, second.id)
    assert.equal(findRelease([first, second], { publisher: createPublisherKey().did, appId: 'org.example.App', version: '1.0.2' }), undefined)
  })
})
