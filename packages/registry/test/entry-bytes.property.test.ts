import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as dagCbor from '@ipld/dag-cbor'
import fc from 'fast-check'
import { parseCanonicalEntry, readCachedEntry } from '../src/codecs/entry-bytes.ts'
import { decodePlainCanonical, isPlainCanonical, NOT_PLAIN } from '../src/codecs/canonical-form.ts'
import { decodeCanonical, parseCanonicalEnvelope } from '../src/records/codec.ts'

// The fast paths must agree with dag-cbor's generic decoder (and OrbitDB's re-encoding of the
// signed fields) on every input they accept, and accept the common shape

const ascii = fc.string({ maxLength: 80, unit: fc.integer({ min: 0, max: 0x7f }).map(c => String.fromCharCode(c)) })
const anyText = fc.oneof(ascii, fc.string({ maxLength: 30, unit: 'grapheme' }))
const uint = fc.oneof(fc.nat({ max: 30 }), fc.nat({ max: 70_000 }), fc.nat({ max: 2 ** 32 + 5 }), fc.nat({ max: Number.MAX_SAFE_INTEGER }))

const entryOf = (text: fc.Arbitrary<string>) => fc.record({
  v: uint,
  id: text,
  key: text,
  sig: text,
  next: fc.array(text, { maxLength: 30 }),
  refs: fc.array(text, { maxLength: 5 }),
  clock: fc.record({ id: text, time: uint }),
  payload: fc.record({ op: text, key: fc.constant(null), value: fc.uint8Array({ maxLength: 600 }) }),
  identity: text
})
const asciiEntry = entryOf(ascii)
const anyEntry = entryOf(anyText)

function signedFields (e: Record<string, unknown>): Uint8Array {
  return dagCbor.encode({ id: e.id, payload: e.payload, next: e.next, refs: e.refs, clock: e.clock, v: e.v })
}

/** bytes with a few bytes changed, cut short, or grown */
const mutated = (bytes: Uint8Array): fc.Arbitrary<Uint8Array> => fc.oneof(
  fc.array(fc.tuple(fc.nat({ max: Math.max(0, bytes.length - 1) }), fc.nat({ max: 255 })), { minLength: 1, maxLength: 3 }).map(edits => {
    const out = bytes.slice()
    for (const [at, value] of edits) out[at] = value
    return out
  }),
  fc.nat({ max: bytes.length }).map(n => bytes.slice(0, n)),
  fc.uint8Array({ minLength: 1, maxLength: 4 }).map(tail => Uint8Array.from([...bytes, ...tail]))
)

function genericDecode (bytes: Uint8Array): { ok: true, value: unknown } | { ok: false } {
  try {
    return { ok: true, value: dagCbor.decode(bytes) }
  } catch {
    return { ok: false }
  }
}

describe('parseCanonicalEntry', () => {
  it('reads every canonical ASCII entry as dag-cbor does, and its signed bytes as OrbitDB re-encodes them', () => {
    fc.assert(fc.property(fc.oneof(asciiEntry, anyEntry), value => {
      const bytes = dagCbor.encode(value)
      const parsed = parseCanonicalEntry(bytes)
      const decoded = dagCbor.decode(bytes) as Record<string, unknown>
      const allAscii = [value.id, value.key, value.sig, value.clock.id, value.payload.op, value.identity, ...value.next, ...value.refs].every(s => /^[\0-\x7f]*$/.test(s))
      if (!allAscii) {
        assert.equal(parsed, undefined)
        return
      }
      assert.ok(parsed != null, 'the common shape takes the fast path')
      assert.deepEqual(parsed.entry, decoded)
      assert.equal(Buffer.compare(parsed.signedBytes, signedFields(decoded)), 0)
    }), { numRuns: 500 })
  })

  it('never accepts bytes that dag-cbor reads differently or not at all', () => {
    let accepted = 0
    fc.assert(fc.property(asciiEntry.chain(v => mutated(dagCbor.encode(v))), bytes => {
      const parsed = parseCanonicalEntry(bytes)
      if (parsed == null) return
      accepted++
      const generic = genericDecode(bytes)
      assert.ok(generic.ok, 'dag-cbor decodes what the fast path accepted')
      assert.deepEqual(parsed.entry, generic.value)
      assert.equal(Buffer.compare(parsed.signedBytes, signedFields(generic.value as Record<string, unknown>)), 0)
    }), { numRuns: 4000 })
    // changed bytes inside strings and byte strings still parse: the check above ran on many
    assert.ok(accepted > 100, `only ${accepted} mutated entries took the fast path`)
  })

  it('reads the same proof fields and writer identity as the full parse (for the record cache)', () => {
    const same = (value: string): string => value
    fc.assert(fc.property(fc.oneof(asciiEntry, asciiEntry.chain(v => mutated(dagCbor.encode(v)))), value => {
      const bytes = value instanceof Uint8Array ? value : dagCbor.encode(value)
      const full = parseCanonicalEntry(bytes)
      const cached = readCachedEntry(bytes, true, same, same)
      if (full == null) return
      const { id, next, refs, clock, v, sig, identity } = full.entry
      assert.deepEqual(cached, { identity, proof: { id, next, refs, clock, v, sig } })
      assert.deepEqual(readCachedEntry(bytes, false, same, same), { identity })
    }), { numRuns: 1000 })
  })

  it('leaves non-canonical encodings to the generic path', () => {
    const value = { v: 2, id: '/orbitdb/x', key: 'k', sig: 's', next: [], refs: [], clock: { id: 'k', time: 1 }, payload: { op: 'ADD', key: null, value: new Uint8Array(3) }, identity: 'i' }
    const bytes = dagCbor.encode(value)
    assert.ok(parseCanonicalEntry(bytes) != null)
    // v: 2 as a one-byte argument (0x18 0x02) instead of inline
    const padded = Uint8Array.from([bytes[0]!, ...bytes.subarray(1, 3), 0x18, 0x02, ...bytes.subarray(4)])
    assert.equal(parseCanonicalEntry(padded), undefined)
    // a map with a tenth key
    assert.equal(parseCanonicalEntry(dagCbor.encode({ ...value, extra: 1 })), undefined)
  })
})

describe('parseCanonicalEnvelope', () => {
  const signature = fc.uint8Array({ minLength: 64, maxLength: 64 })
  const envelope = fc.record({ r: fc.uint8Array({ maxLength: 400 }), s: fc.option(signature, { nil: undefined }), c: fc.option(signature, { nil: undefined }) })
    .map(value => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)))

  it('reads every common envelope as the generic canonical decoder does', () => {
    fc.assert(fc.property(envelope, value => {
      const bytes = dagCbor.encode(value)
      assert.deepEqual(parseCanonicalEnvelope(bytes), decodeCanonical(bytes, 1e6, 'the envelope'))
    }), { numRuns: 500 })
  })

  it('never accepts what the generic decoder rejects or reads differently', () => {
    fc.assert(fc.property(envelope.chain(v => mutated(dagCbor.encode(v))), bytes => {
      const fast = parseCanonicalEnvelope(bytes)
      if (fast == null) return
      assert.deepEqual(fast, decodeCanonical(bytes, 1e6, 'the envelope'))
    }), { numRuns: 3000 })
  })
})

describe('isPlainCanonical', () => {
  const value = fc.letrec(tie => ({
    node: fc.oneof({ depthSize: 'small' },
      fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), fc.nat({ max: 300 }), fc.double({ noNaN: true, noDefaultInfinity: true }),
      anyText, fc.constantFrom(null, true, false), fc.uint8Array({ maxLength: 40 }),
      fc.array(tie('node'), { maxLength: 5 }), fc.dictionary(fc.oneof(ascii, anyText, fc.constant('__proto__')), tie('node'), { maxKeys: 5 }))
  })).node

  function reencodes (bytes: Uint8Array): boolean {
    try {
      return Buffer.compare(dagCbor.encode(dagCbor.decode(bytes)), bytes) === 0
    } catch {
      return false
    }
  }

  it('is true only for bytes that re-encode to themselves, and for most encodings of plain values', () => {
    let plain = 0
    fc.assert(fc.property(value, v => {
      const bytes = dagCbor.encode(v)
      if (isPlainCanonical(bytes)) {
        plain++
        assert.ok(reencodes(bytes))
      }
    }), { numRuns: 2000 })
    assert.ok(plain > 1000, `only ${plain} of 2000 shown canonical`)
  })

  it('decodePlainCanonical reads what it shows canonical as dag-cbor decodes it, changed bytes too', () => {
    let plain = 0
    fc.assert(fc.property(fc.oneof(value.map(v => dagCbor.encode(v)), value.chain(v => mutated(dagCbor.encode(v)))), bytes => {
      const fast = decodePlainCanonical(bytes)
      assert.equal(fast !== NOT_PLAIN, isPlainCanonical(bytes))
      if (fast === NOT_PLAIN) return
      plain++
      assert.deepStrictEqual(fast, dagCbor.decode(bytes))
    }), { numRuns: 5000 })
    assert.ok(plain > 1000, `only ${plain} of 5000 read`)
    // byte strings are copies, not views of the input (a Buffer's subarray would be)
    const input = Buffer.from(dagCbor.encode({ r: Uint8Array.of(1, 2, 3) }))
    const read = decodePlainCanonical(input) as { r: Uint8Array }
    assert.equal(Object.getPrototypeOf(read.r), Uint8Array.prototype)
    input.fill(0)
    assert.deepStrictEqual([...read.r], [1, 2, 3])
  })

  it('is never true for changed bytes that do not re-encode to themselves', () => {
    fc.assert(fc.property(value.chain(v => mutated(dagCbor.encode(v))), bytes => {
      let decodes = true
      try { dagCbor.decode(bytes) } catch { decodes = false }
      if (decodes && isPlainCanonical(bytes)) assert.ok(reencodes(bytes))
    }), { numRuns: 5000 })
  })

  it('holds non-canonical forms to the re-encoding check', () => {
    const cases = [
      Uint8Array.of(0x18, 0x05), // 5 in a one-byte argument
      Uint8Array.of(0xa2, 0x62, 0x61, 0x61, 0x01, 0x61, 0x62, 0x02), // key "aa" before "b"
      Uint8Array.of(0x63, 0xef, 0xbb, 0xbf), // a lone BOM
      Uint8Array.of(0x62, 0xc0, 0x80), // overlong NUL
      Uint8Array.of(0xf7), // undefined
      Uint8Array.of(0xfb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0) // 1.0 as a float
    ]
    for (const bytes of cases) assert.equal(isPlainCanonical(bytes), false)
  })
})
