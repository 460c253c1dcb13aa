/**
 * Fuzzing what the registry's own property tests (packages/registry/test/records.property.test.ts)
 * leave out: the JSON form HTTP mirrors serve, correctly signed records with one field replaced by
 * anything, the signed heads announcements, and the catalog's inputs (records and queries). Every
 * case ends in a value or a named error.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as dagCbor from '@ipld/dag-cbor'
import fc from 'fast-check'
import { createCatalog } from '@hubless/query'
import {
  buildEndorseRecord, buildReleaseRecord, createPublisherKey, decodeSignedHeads, decodeSignedRecord, encodeSignedHeads,
  encodeSignedRecord, recordFromJSON, recordToJSON, signHeads, signRecord
} from '@hubless/registry'
import type { UnsignedRecord } from '@hubless/registry'
import { sign } from '../../packages/registry/src/records/ed25519.ts'

const NAMED = new Set([
  'InvalidSignatureError', 'MalformedRecordError', 'OversizeRecordError', 'UnknownRecordKindError', 'InvalidAppIdError',
  'InvalidChannelError', 'InvalidFieldError', 'InvalidPublisherKeyError', 'MalformedTextError', 'MissingSizeError'
])
const RUNS = Number(process.env.HUBLESS_FUZZ_RUNS ?? 1000)
export const tally = { cases: 0 }

async function outcome (p: Promise<unknown> | (() => unknown), named = NAMED): Promise<string> {
  tally.cases++
  try {
    await (typeof p === 'function' ? p() : p)
    return 'ok'
  } catch (err) {
    const name = (err as Error).name
    assert.ok(named.has(name), `unnamed failure ${name}: ${(err as Error).message}`)
    return name
  }
}

const key = createPublisherKey()
const base: UnsignedRecord = buildReleaseRecord({
  appId: 'org.fuzz.Target',
  version: '1.2.3',
  channel: 'beta',
  arch: 'x86_64',
  content: { cid: 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi', sha256: 'a'.repeat(64), size: 10, urls: ['https://example.org/a.AppImage'] },
  app: { name: 'Target', summary: 'fuzz', categories: ['Utility'], keywords: ['x'] }
}, { publisher: key.did, time: 1_700_000_000_000 })

/** every path to a value in the record, e.g. ['content', 'urls', 0] */
function paths (value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (Array.isArray(value)) return [prefix, ...value.flatMap((v, i) => paths(v, [...prefix, i]))]
  if (typeof value === 'object' && value !== null) return [prefix, ...Object.entries(value).flatMap(([k, v]) => paths(v, [...prefix, k]))]
  return [prefix]
}
const fieldPaths = paths(base).filter(p => p.length > 0)

function replaced (record: unknown, path: Array<string | number>, value: unknown): unknown {
  const copy = structuredClone(record) as Record<string | number, unknown>
  let at = copy
  for (const step of path.slice(0, -1)) at = at[step] as Record<string | number, unknown>
  if (value === undefined) delete at[path.at(-1)!]
  else at[path.at(-1)!] = value
  return copy
}

const cborValue = fc.oneof(
  fc.string({ maxLength: 300 }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null),
  fc.constant(undefined), fc.uint8Array({ maxLength: 64 }), fc.array(fc.string({ maxLength: 20 }), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 4 }),
  fc.constantFrom('', 'did:key:z6Mk', 'org.example', '../../etc', 'release', 'x86_64', 'a'.repeat(70_000), -1, 2 ** 53, 1e300)
)

describe('decoder fuzzing (beyond the registry\'s own property tests)', () => {
  it('a correctly signed record with any one field replaced or removed decodes to a valid record or a named error', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...fieldPaths), cborValue, async (path, value) => {
      const record = replaced(base, path, value)
      let r: Uint8Array
      try {
        r = dagCbor.encode(record)
      } catch {
        return
      }
      const wire = dagCbor.encode({ r, s: await sign(r, key) })
      const result = await outcome(decodeSignedRecord(wire))
      if (result === 'ok') {
        const again = await decodeSignedRecord(wire)
        assert.deepEqual(encodeSignedRecord(again), wire, 'an accepted record re-encodes to the same bytes')
      }
    }), { numRuns: RUNS })
  })

  it('the JSON form accepts only what verifies: arbitrary JSON and mutated fields end in named errors', async () => {
    const signed = await signRecord(base, key)
    const json = recordToJSON(signed)
    await fc.assert(fc.asyncProperty(fc.oneof(fc.string({ maxLength: 400 }), fc.json(), fc.jsonValue().map(v => JSON.stringify(v))), async text => {
      await outcome(recordFromJSON(text))
    }), { numRuns: RUNS })
    // found by this property: an id String() cannot convert used to throw an unnamed TypeError
    assert.equal(await outcome(recordFromJSON({ ...json, id: { toString: '' } } as never)), 'MalformedRecordError')
    assert.equal(await outcome(recordFromJSON(JSON.stringify({ ...json, id: { toString: '' } }))), 'MalformedRecordError')
    await fc.assert(fc.asyncProperty(fc.constantFrom('id', 'record', 'signature', 'countersignature', 'extra'), fc.jsonValue(), async (field, value) => {
      const result = await outcome(recordFromJSON(JSON.stringify({ ...json, [field]: value })))
      if (field !== 'extra' && field !== 'countersignature') assert.notEqual(result, 'ok', `${field} = ${JSON.stringify(value).slice(0, 80)} was accepted`)
    }), { numRuns: RUNS })
  })

  it('signed heads announcements: round trip, and any bytes, bit flip or CBOR value ends in a named error', async () => {
    const heads = await signHeads({ registry: '/orbitdb/zdpuTest', heads: ['zdpuA', 'zdpuB'], records: 10, time: 1_700_000_000_000 }, key)
    const wire = encodeSignedHeads(heads)
    assert.deepEqual((await decodeSignedHeads(wire)).announcement, heads.announcement)
    await fc.assert(fc.asyncProperty(fc.nat({ max: wire.byteLength * 8 - 1 }), async bit => {
      const mutated = Uint8Array.from(wire)
      mutated[bit >> 3]! ^= 1 << (bit & 7)
      assert.notEqual(await outcome(decodeSignedHeads(mutated)), 'ok')
    }), { numRuns: RUNS })
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async bytes => {
      await outcome(decodeSignedHeads(bytes))
    }), { numRuns: RUNS })
    await fc.assert(fc.asyncProperty(fc.constantFrom('v', 'kind', 'registry', 'mirror', 'heads', 'records', 'time', 'extra'), cborValue, async (field, value) => {
      let h: Uint8Array
      try {
        h = dagCbor.encode({ ...heads.announcement, [field]: value })
      } catch {
        return
      }
      await outcome(decodeSignedHeads(dagCbor.encode({ h, s: await sign(h, key) })))
    }), { numRuns: RUNS })
  })

  it('the catalog takes only record-shaped input and answers any query with results or InvalidQueryError', async () => {
    const catalog = await createCatalog({}, { roots: [key.did] })
    try {
      catalog.addAll([await signRecord(base, key), await signRecord(buildEndorseRecord(createPublisherKey().did, {}, { publisher: key.did }), key)])
      const query = new Set(['InvalidQueryError', 'InvalidRecordError'])
      await fc.assert(fc.asyncProperty(fc.anything(), async value => {
        await outcome(() => catalog.add(value as never), query)
      }), { numRuns: RUNS })
      await fc.assert(fc.asyncProperty(fc.record({
        query: fc.oneof(fc.string({ maxLength: 200 }), fc.anything()),
        category: fc.oneof(fc.string(), fc.array(fc.string()), fc.anything()),
        channel: fc.oneof(fc.constantFrom('release', 'beta', 'stable'), fc.anything()),
        arch: fc.anything(),
        offset: fc.oneof(fc.integer(), fc.double(), fc.anything()),
        limit: fc.oneof(fc.integer(), fc.double(), fc.anything()),
        sort: fc.oneof(fc.constantFrom('relevance', 'updated', 'name', 'random'), fc.anything()),
        trustedOnly: fc.anything(),
        free: fc.anything()
      }, { requiredKeys: [] }), async q => {
        await outcome(() => catalog.search(q as never), query)
      }), { numRuns: RUNS })
      assert.equal(catalog.size, 1, 'fuzzed input added no app')
    } finally {
      await catalog.stop()
    }
  })
})

describe('decoder fuzzing tally', () => {
  it('reports', () => { console.log(`# ${tally.cases} decoder and catalog cases`) })
})
