import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { base32, base32upper } from 'multiformats/bases/base32'
import { base36 } from 'multiformats/bases/base36'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { base32Encode, base32UpperEncode, base36Encode, base58btcEncode, hexOf } from '../src/multibase.ts'

const encoders = [
  { name: 'base32Encode', fast: base32Encode, reference: base32 },
  { name: 'base32UpperEncode', fast: base32UpperEncode, reference: base32upper },
  { name: 'base36Encode', fast: base36Encode, reference: base36 },
  { name: 'base58btcEncode', fast: base58btcEncode, reference: base58btc }
]

describe('multibase encoders', () => {
  for (const { name, fast, reference } of encoders) {
    it(`${name} gives what multiformats gives, leading zeros included, at every length up to 120 bytes and beyond its kept arrays`, () => {
      for (let length = 0; length <= 120; length++) {
        for (let run = 0; run < 6; run++) {
          const bytes = randomBytes(length)
          // leading zeros, which base-x encodings spell apart
          if (run >= 3) bytes.fill(0, 0, Math.min(length, run - 2))
          if (run === 5) bytes.fill(0)
          assert.equal(fast(bytes), reference.encode(bytes), `${length} bytes: ${bytes.toString('hex')}`)
        }
      }
      const long = randomBytes(1_500)
      assert.equal(fast(long), reference.encode(long))
      // and short input again after long
      assert.equal(fast(Uint8Array.of(0, 0, 1)), reference.encode(Uint8Array.of(0, 0, 1)))
    })
  }

  it('hexOf gives lowercase hex from any start', () => {
    for (let length = 0; length <= 70; length++) {
      const bytes = randomBytes(length)
      assert.equal(hexOf(bytes), Buffer.from(bytes).toString('hex'))
      assert.equal(hexOf(bytes, 3), Buffer.from(bytes.subarray(3)).toString('hex'))
    }
  })

  it('give CIDs their canonical strings', () => {
    const cid = CID.parse('bafyreidrro7q4naoslsnfgduco4w2fw6lchvihnust4arkzqpinvrnyu6a')
    assert.equal(base32Encode(cid.bytes), cid.toString())
    assert.equal(base58btcEncode(cid.bytes), cid.toString(base58btc))
    assert.equal(base36Encode(cid.bytes), cid.toString(base36))
  })
})
