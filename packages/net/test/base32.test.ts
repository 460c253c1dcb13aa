import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { base32, base32upper } from 'multiformats/bases/base32'
import { base32Encode, base32UpperEncode } from '../src/base32.ts'

describe('base32Encode and base32UpperEncode', () => {
  it('give what multiformats gives, for every length up to 300 bytes and beyond the kept array', () => {
    for (let length = 0; length <= 300; length++) {
      for (let run = 0; run < 5; run++) {
        const bytes = randomBytes(length)
        assert.equal(base32Encode(bytes), base32.encode(bytes))
        assert.equal(base32UpperEncode(bytes), base32upper.encode(bytes))
      }
    }
    const long = randomBytes(10_000)
    assert.equal(base32Encode(long), base32.encode(long))
    assert.equal(base32Encode(Uint8Array.of(1)), base32.encode(Uint8Array.of(1)))
  })

  it('gives a CID its canonical string', async () => {
    const { CID } = await import('multiformats/cid')
    const cid = CID.parse('bafyreidrro7q4naoslsnfgduco4w2fw6lchvihnust4arkzqpinvrnyu6a')
    assert.equal(base32Encode(cid.bytes), cid.toString())
  })
})
