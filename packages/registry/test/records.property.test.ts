import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as dagCbor from '@ipld/dag-cbor'
import fc from 'fast-check'
import {
  CHANNELS, createPublisherKey, decodeSignedRecord, encodeSignedRecord, publisherKeyFromSecret, recordFromJSON,
  recordToJSON, signRecord, validateRecord
} from '../src/records/index.ts'
import type { ReleaseRecord } from '../src/records/index.ts'
import { CONTENT_CID } from './fixtures.ts'

const NAMED = new Set([
  'InvalidSignatureError', 'MalformedRecordError', 'OversizeRecordError', 'UnknownRecordKindError',
  'InvalidAppIdError', 'InvalidChannelError', 'InvalidFieldError', 'MalformedTextError', 'MissingSizeError'
])

const key = publisherKeyFromSecret(new Uint8Array(32).fill(1))

const segment = fc.stringMatching(/^[a-z][a-z0-9_-]{0,10}$/)
const printable = fc.string({ minLength: 1, maxLength: 40, unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz ÄÖé日本-_.,!'.split('')) })

const release: fc.Arbitrary<ReleaseRecord> = fc.record({
  appId: fc.array(segment, { minLength: 3, maxLength: 5 }).map(s => s.join('.')),
  version: fc.stringMatching(/^[0-9A-Za-z+~-][0-9A-Za-z.+~-]{0,19}$/),
  channel: fc.constantFrom(...CHANNELS),
  arch: fc.constantFrom('x86_64', 'aarch64', 'armhf', 'i686'),
  time: fc.nat({ max: 2 ** 45 }),
  size: fc.option(fc.nat(), { nil: undefined }),
  name: printable,
  summary: fc.option(printable, { nil: undefined }),
  urls: fc.array(segment.map(s => `https://example.org/${s}.AppImage`), { maxLength: 3 }),
  keywords: fc.option(fc.array(segment, { maxLength: 5 }), { nil: undefined })
}).map(x => {
  const record: ReleaseRecord = {
    v: 1,
    kind: 'release',
    publisher: key.did,
    time: x.time,
    appId: x.appId,
    version: x.version,
    channel: x.channel,
    arch: x.arch,
    content: { cid: CONTENT_CID, urls: x.urls },
    app: { name: x.name }
  }
  if (x.size !== undefined) record.content.size = x.size
  if (x.summary !== undefined) record.app.summary = x.summary
  if (x.keywords !== undefined) record.app.keywords = x.keywords
  return record
})

async function expectNamedRejection (p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (err) {
    const name = (err as Error).name
    assert.ok(NAMED.has(name), `unexpected error ${name}: ${(err as Error).message}`)
    return name
  }
  assert.fail('expected the input to be rejected')
}

/** Re-frame the top-level map of canonical dag-cbor bytes in a non-canonical but valid CBOR way */
function nonCanonical (bytes: Uint8Array, how: 'long-header' | 'indefinite'): Uint8Array {
  const head = bytes[0]!
  assert.ok(head >= 0xa0 && head <= 0xb7, 'a small map')
  const n = head - 0xa0
  const body = bytes.subarray(1)
  if (how === 'long-header') return Uint8Array.of(0xb8, n, ...body)
  return Uint8Array.of(0xbf, ...body, 0xff)
}

describe('records (properties)', () => {
  it('every valid record round-trips through wire and JSON with the same id', async () => {
    await fc.assert(fc.asyncProperty(release, async record => {
      const signed = await signRecord(record, key)
      const wire = encodeSignedRecord(signed)
      const back = await decodeSignedRecord(wire)
      assert.equal(back.id, signed.id)
      assert.deepEqual(back.record, validateRecord(dagCbor.decode(signed.bytes)))
      assert.deepEqual(encodeSignedRecord(back), wire)
      const fromJson = await recordFromJSON(JSON.stringify(recordToJSON(signed)))
      assert.equal(fromJson.id, signed.id)
    }), { numRuns: 150 })
  })

  it('any single-bit change to the wire bytes is rejected with a named error', async () => {
    const wire = encodeSignedRecord(await signRecord(fc.sample(release, { numRuns: 1, seed: 1 })[0]!, key))
    await fc.assert(fc.asyncProperty(fc.nat({ max: wire.byteLength * 8 - 1 }), async bit => {
      const mutated = Uint8Array.from(wire)
      mutated[bit >> 3]! ^= 1 << (bit & 7)
      await expectNamedRejection(decodeSignedRecord(mutated))
    }), { numRuns: 400 })
  })

  it('any change to the record or signature is rejected', async () => {
    await fc.assert(fc.asyncProperty(release, fc.nat(), fc.integer({ min: 1, max: 255 }), fc.boolean(), async (record, at, xor, inSignature) => {
      const signed = await signRecord(record, key)
      if (inSignature) {
        const signature = Uint8Array.from(signed.signature!)
        signature[at % 64]! ^= xor
        await expectNamedRejection(decodeSignedRecord(encodeSignedRecord({ ...signed, signature })))
      } else {
        const bytes = Uint8Array.from(signed.bytes)
        bytes[at % bytes.byteLength]! ^= xor
        await expectNamedRejection(decodeSignedRecord(encodeSignedRecord({ ...signed, bytes })))
      }
    }), { numRuns: 150 })
  })

  it('non-canonical encodings are rejected even when correctly signed', async () => {
    const signer = createPublisherKey()
    await fc.assert(fc.asyncProperty(release, fc.constantFrom('long-header', 'indefinite') as fc.Arbitrary<'long-header' | 'indefinite'>, async (r, how) => {
      const record = { ...r, publisher: signer.did }
      const signed = await signRecord(record, signer)
      const bytes = nonCanonical(signed.bytes, how)
      const { ed25519 } = await import('@noble/curves/ed25519.js')
      const signature = ed25519.sign(bytes, signer.secretKey)
      const name = await expectNamedRejection(decodeSignedRecord(dagCbor.encode({ r: bytes, s: signature })))
      assert.equal(name, 'MalformedRecordError')
      const envelope = nonCanonical(encodeSignedRecord(signed), how)
      assert.equal(await expectNamedRejection(decodeSignedRecord(envelope)), 'MalformedRecordError')
    }), { numRuns: 60 })
  })

  it('arbitrary bytes never crash the decoder', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), async bytes => {
      await expectNamedRejection(decodeSignedRecord(bytes))
    }), { numRuns: 500 })
  })

  it('arbitrary CBOR values never pass as records', async () => {
    await fc.assert(fc.asyncProperty(fc.object(), async value => {
      let bytes: Uint8Array
      try {
        bytes = dagCbor.encode(value)
      } catch {
        return
      }
      await expectNamedRejection(decodeSignedRecord(dagCbor.encode({ r: bytes, s: new Uint8Array(64) })))
    }), { numRuns: 300 })
  })
})
