import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setBounded } from '../src/log/bounded-map.ts'

describe('setBounded', () => {
  it('holds at most max keys, forgets the oldest first, and a key set again is the newest', () => {
    const map = new Map<number, string>()
    for (let i = 0; i < 16; i++) setBounded(map, 16, i, `v${i}`)
    assert.equal(map.size, 16)
    setBounded(map, 16, 0, 'again')
    setBounded(map, 16, 16, 'v16')
    // past 16, down to 14 (max less an eighth) at once: the oldest are 1, 2 and 3, as 0 was set again
    assert.deepEqual([...map.keys()], [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 16])
    assert.equal(map.get(0), 'again')
    for (let i = 17; i < 1000; i++) {
      setBounded(map, 16, i, `v${i}`)
      assert.ok(map.size <= 16, `${map.size} keys`)
    }
    assert.ok(map.has(999) && map.has(990) && !map.has(900))
  })
})
