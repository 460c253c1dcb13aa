import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as dagCbor from '@ipld/dag-cbor'
import { ed25519 } from '@noble/curves/ed25519.js'
import fc from 'fast-check'
import {
  buildRevokeKeyRecord, buildYankRecord, cleanIdentityText, cleanProseText, cleanVersion, createPublisherKey,
  decodeSignedRecord, encodeSignedRecord, isSafeVersion, recordFromJSON, recordToJSON, signRecord, validateRecord
} from '../src/records/index.ts'
import type { AppMetadata, ReleaseRecord, UnsignedRecord } from '../src/records/index.ts'
import { isWellFormed } from '../src/records/text-rules.ts'
import { releaseRecord, signedRelease } from './fixtures.ts'

const key = createPublisherKey()

/** `fn` throws (or rejects with) an error named `name` */
async function refuses (fn: () => unknown, name: string, what: string): Promise<void> {
  await assert.rejects(async () => { await fn() }, (err: Error) => {
    assert.equal(err.name, name, `${what}: expected ${name}, got ${err.name}: ${err.message}`)
    return true
  })
}

/** refused by the schema on its own and when signing */
async function refusedEverywhere (record: UnsignedRecord, name: string, what: string): Promise<void> {
  await refuses(() => validateRecord(record), name, what)
  await refuses(() => signRecord(record, key), name, what)
}

function withApp (app: Partial<AppMetadata>): ReleaseRecord {
  const r = releaseRecord(key)
  return { ...r, app: { ...r.app, ...app } }
}

const BIDI = ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u200e', '\u200f', '\u061c']
const INVISIBLE = ['\u200b', '\u2060', '\ufeff', '\u00ad', '\u034f', '\u3164', '\u180e', '\u2062', '\u{e0041}', '\u{e007f}', '\u{1bca1}']
const JOINERS = ['\u200c', '\u200d']

describe('versions', () => {
  const bad = ['../../', '/etc/passwd', 'a\\b', '.x', '.', '..', '1.0/../../x', '1\u0007', '1\u0000', '1\u007f', '1 0', '1.0\u200b']
  for (const version of bad) {
    it(`refuses ${JSON.stringify(version)} in a release and a yank`, async () => {
      await refusedEverywhere({ ...releaseRecord(key), version }, 'InvalidFieldError', 'release')
      const yank = buildYankRecord(await signedRelease(key), 'broken', { publisher: key.did })
      await refusedEverywhere({ ...yank, version }, 'InvalidFieldError', 'yank')
    })
  }

  it('accepts versions as projects write them', async () => {
    for (const version of ['1.2.3-beta+build', '2024.01.05', 'v1.0', '1..2', '1.0_rc1', '0.9~git20240101', 'r1234']) {
      assert.ok(isSafeVersion(version), version)
      await signRecord({ ...releaseRecord(key), version }, key)
    }
  })

  it('cleanVersion makes catalog versions safe (property)', () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...'./\\\\aZ09-+~'.split('')), minLength: 1, maxLength: 30 }), raw => {
      const v = cleanVersion(raw)
      assert.ok(v === '' || isSafeVersion(v), `${JSON.stringify(raw)} -> ${JSON.stringify(v)}`)
    }))
    assert.equal(cleanVersion('.glibc2.17'), 'glibc2.17')
    assert.equal(cleanVersion('../../etc'), '-..-etc')
  })
})

describe('display text', () => {
  for (const [what, chars] of [['bidirectional control', BIDI], ['invisible character', INVISIBLE]] as const) {
    for (const c of chars) {
      const code = `U+${c.codePointAt(0)!.toString(16).toUpperCase()}`
      it(`refuses a ${what} (${code}) in names, summaries and the other shown text`, async () => {
        await refusedEverywhere(withApp({ name: `Fire${c}fox` }), 'InvalidFieldError', 'name')
        await refusedEverywhere(withApp({ summary: `A browser${c}` }), 'InvalidFieldError', 'summary')
        await refusedEverywhere(withApp({ description: `${c}text` }), 'InvalidFieldError', 'description')
        await refusedEverywhere(withApp({ developer: `Moz${c}illa` }), 'InvalidFieldError', 'developer')
        await refusedEverywhere(withApp({ license: `MIT${c}` }), 'InvalidFieldError', 'license')
        await refusedEverywhere(withApp({ keywords: ['ok', `we${c}b`] }), 'InvalidFieldError', 'keyword')
        await refusedEverywhere(withApp({ categories: [`Net${c}work`] }), 'InvalidFieldError', 'category')
        await refusedEverywhere({ ...releaseRecord(key), imported: { source: 'hub', sourceId: `id${c}` } }, 'InvalidFieldError', 'sourceId')
        const yank = buildYankRecord(await signedRelease(key), `broken${c}`, { publisher: key.did })
        await refusedEverywhere(yank, 'InvalidFieldError', 'yank reason')
        await refusedEverywhere(buildRevokeKeyRecord(0, `stolen${c}`, { publisher: key.did }), 'InvalidFieldError', 'revoke reason')
      })
    }
  }

  it('refuses the zero width joiners in names, and keeps them in prose (scripts and emoji need them)', async () => {
    for (const c of JOINERS) {
      await refusedEverywhere(withApp({ name: `Fire${c}fox` }), 'InvalidFieldError', 'name')
      await refusedEverywhere(withApp({ keywords: [`we${c}b`] }), 'InvalidFieldError', 'keyword')
    }
    await signRecord(withApp({ summary: 'For developers 👩‍💻', description: 'می‌خواهم: Persian needs the non-joiner' }), key)
  })

  it('accepts names in any script, emoji without joiners and variation selectors', async () => {
    for (const name of ['日本語エディタ', '한글 편집기', 'محرر النصوص', 'עורך', 'Ελληνικά', '🚀 Rocket', '❤️ Love', 'Café Ünïcode', 'नमस्ते']) {
      const signed = await signRecord(withApp({ name }), key)
      assert.equal((await decodeSignedRecord(encodeSignedRecord(signed))).record.kind, 'release', name)
    }
  })

  it('a name with any refused character inserted anywhere is refused (property)', async () => {
    const letters = fc.string({ unit: fc.constantFrom(...'abcXYZ日本é🚀 '.split('')), minLength: 1, maxLength: 20 })
    await fc.assert(fc.asyncProperty(letters, fc.nat(), fc.constantFrom(...BIDI, ...INVISIBLE, ...JOINERS), async (name, at, c) => {
      const i = at % (name.length + 1)
      const bad = name.slice(0, i) + c + name.slice(i)
      // (an insertion that splits 🚀 is a lone surrogate: refused too, by its own error)
      await refuses(() => validateRecord(withApp({ name: bad })), isWellFormed(bad) ? 'InvalidFieldError' : 'MalformedTextError', JSON.stringify(bad))
    }), { numRuns: 300 })
  })

  it('what the importers clean is accepted (property)', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }), raw => {
      // control characters are the caller's to replace; the rest is the cleaners'
      const visible = raw.replace(/\p{Cc}/gu, ' ')
      const name = cleanIdentityText(visible).trim()
      if (name !== '') validateRecord(withApp({ name }))
      const summary = cleanProseText(visible).trim()
      if (summary !== '') validateRecord(withApp({ summary }))
      assert.ok(isWellFormed(cleanIdentityText(raw)))
    }), { numRuns: 500 })
  })
})

describe('lone surrogates', () => {
  const cases: Array<[string, ReleaseRecord]> = [
    ['name', withApp({ name: '\ud800' })],
    ['name (low half)', withApp({ name: 'App\udc00' })],
    ['keyword', withApp({ keywords: ['ok', 'x\ud800'] })],
    ['summary', withApp({ summary: 'half a 🚀: \ud83d' })],
    ['description', withApp({ description: '\udfff' })],
    ['url', { ...releaseRecord(key), content: { ...releaseRecord(key).content, urls: ['https://example.org/\ud800'] } }],
    ['field name', { ...releaseRecord(key), ['x\ud800']: 1 } as unknown as ReleaseRecord]
  ]
  for (const [what, record] of cases) {
    it(`refuses one in the ${what} with MalformedTextError, before it is encoded`, async () => {
      await refusedEverywhere(record, 'MalformedTextError', what)
    })
  }

  it('refuses one spelled in a JSON record instead of verifying its U+FFFD twin', async () => {
    const signed = await signRecord(withApp({ name: 'App\ufffd' }), key)
    const json = JSON.stringify(recordToJSON(signed)).replace('App\ufffd', 'App\\ud800')
    await refuses(() => recordFromJSON(json), 'MalformedTextError', 'JSON')
  })

  it('accepts well-formed pairs', async () => {
    await signRecord(withApp({ name: '🚀\u{1f680}', keywords: ['𝄞'] }), key)
  })
})

describe('size with sha256', () => {
  it('a release naming a sha256 without a size is refused with MissingSizeError', async () => {
    const r = releaseRecord(key)
    const { size: _size, ...content } = r.content
    const record = { ...r, content }
    await refusedEverywhere(record, 'MissingSizeError', 'no size')
    await assert.rejects(async () => { await signRecord(record, key) }, (err: Error) => /size/.test(err.message) && /sha256/.test(err.message))
  })

  it('an old record on the wire, signed without a size, gets the same named error', async () => {
    const r = releaseRecord(key)
    const { size: _size, ...content } = r.content
    const bytes = dagCbor.encode({ ...r, content })
    await refuses(() => decodeSignedRecord(dagCbor.encode({ r: bytes, s: ed25519.sign(bytes, key.secretKey) })), 'MissingSizeError', 'wire')
  })

  it('a size without a sha256, or neither (imported records), is still fine', async () => {
    const r = releaseRecord(key)
    await signRecord({ ...r, content: { urls: ['https://example.org/a'] } }, key)
    await signRecord({ ...r, content: { cid: r.content.cid!, size: 5, urls: [] } }, key)
  })
})
