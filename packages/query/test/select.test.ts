import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { selectTop } from '../src/select.ts'

describe('selectTop', () => {
  it('gives the first k of a stable descending sort, then every other item once', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: -5, max: 5 }), { maxLength: 200 }), fc.integer({ min: 0, max: 60 }), (values, k) => {
      const items = values.map((v, i) => ({ v, i }))
      const sorted = [...items].sort((a, b) => b.v - a.v || a.i - b.i)
      const out = selectTop(items, k, item => item.v)
      const n = Math.min(k, items.length)
      assert.deepEqual(out.slice(0, n), sorted.slice(0, n))
      assert.equal(out.length, items.length)
      assert.equal(new Set(out).size, items.length)
    }), { numRuns: 500 })
  })
})
