import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { SEARCH_LIMITS, checkSearchQuery, createCatalog, parseSearchQuery } from '../src/index.ts'
import { key, release } from './records.ts'

function rejects (fn: () => unknown, parameter: string, message: string): void {
  assert.throws(fn, (err: Error & { parameter?: string }) => {
    assert.equal(err.name, 'InvalidQueryError', message)
    assert.equal(err.parameter, parameter, `${message}: the error names ${parameter}`)
    return true
  })
}

describe('parseSearchQuery', () => {
  it('reads the parameters a mirror\'s HTTP API gets', () => {
    const params = new URLSearchParams('q=video+editor&category=AudioVideo,Video&category=Graphics&channel=beta&arch=x86_64&trusted=true&free=1&page=3&pageSize=10&sort=updated&publisher=did:key:z6MkX')
    assert.deepEqual(parseSearchQuery(params), {
      query: 'video editor',
      category: ['AudioVideo', 'Video', 'Graphics'],
      channel: 'beta',
      arch: 'x86_64',
      publisher: 'did:key:z6MkX',
      free: true,
      trustedOnly: true,
      sort: 'updated',
      offset: 20,
      limit: 10
    })
  })

  it('takes a plain object, treats empty values as absent and sets the defaults', () => {
    assert.deepEqual(parseSearchQuery({ q: undefined, channel: '', sort: '', arch: '', license: 'free', trusted: 'no' }), {
      query: '', free: true, sort: 'name', offset: 0, limit: SEARCH_LIMITS.defaultPageSize
    })
    assert.equal(parseSearchQuery({}, { defaultPageSize: 24 }).limit, 24, 'a caller\'s default page size')
    assert.equal(parseSearchQuery({ q: 'krita' }).sort, 'relevance')
  })

  it('names the parameter that is wrong', () => {
    rejects(() => parseSearchQuery({ channel: 'stable' }), 'channel', 'an unknown channel')
    rejects(() => parseSearchQuery({ sort: 'random' }), 'sort', 'an unknown sort')
    rejects(() => parseSearchQuery({ license: 'gpl' }), 'license', 'a license other than free')
    rejects(() => parseSearchQuery({ trusted: 'maybe' }), 'trusted', 'a non-boolean')
    rejects(() => parseSearchQuery({ page: '0' }), 'page', 'page 0')
    rejects(() => parseSearchQuery({ page: '1e3' }), 'page', 'an exponent')
    rejects(() => parseSearchQuery({ pageSize: '100000' }), 'pageSize', 'a huge page')
    rejects(() => parseSearchQuery({ q: 'x'.repeat(300) }), 'q', 'a long query')
    rejects(() => parseSearchQuery({ category: Array.from({ length: 21 }, (_, i) => `c${i}`).join(',') }), 'category', 'too many categories')
    rejects(() => parseSearchQuery(new URLSearchParams({ publisher: 'x'.repeat(SEARCH_LIMITS.queryLength + 1) })), 'publisher', 'a long parameter')
  })

  it('accepts every page and page size within the limits, and none beyond them', () => {
    fc.assert(fc.property(fc.integer({ min: -10, max: SEARCH_LIMITS.page + 10 }), fc.integer({ min: -10, max: SEARCH_LIMITS.pageSize + 10 }), (page, pageSize) => {
      const params = new URLSearchParams({ page: String(page), pageSize: String(pageSize) })
      const inRange = page >= 1 && page <= SEARCH_LIMITS.page && pageSize >= 1 && pageSize <= SEARCH_LIMITS.pageSize
      if (!inRange) {
        assert.throws(() => parseSearchQuery(params), { name: 'InvalidQueryError' })
        return
      }
      const query = parseSearchQuery(params)
      assert.equal(query.limit, pageSize)
      assert.equal(query.offset, (page - 1) * pageSize)
      assert.ok(query.offset <= SEARCH_LIMITS.offset, 'the last page is within the offset limit')
      assert.deepEqual(checkSearchQuery(query), query, 'what it returns, the catalog accepts as it is')
    }))
  })

  it('accepts a query up to the limit and refuses a longer one, as the catalog does', async () => {
    const catalog = await createCatalog()
    fc.assert(fc.property(fc.integer({ min: 0, max: SEARCH_LIMITS.queryLength * 2 }), length => {
      const text = 'a'.repeat(length)
      if (length <= SEARCH_LIMITS.queryLength) {
        assert.equal(parseSearchQuery({ q: text }).query, text)
        assert.equal(catalog.search({ query: text }).total, 0)
      } else {
        assert.throws(() => parseSearchQuery({ q: text }), { name: 'InvalidQueryError' })
        assert.throws(() => catalog.search({ query: text }), { name: 'InvalidQueryError' })
      }
    }), { numRuns: 50 })
    await catalog.stop()
  })

  it('throws nothing but InvalidQueryError for any string parameters', () => {
    const name = fc.constantFrom('q', 'category', 'channel', 'arch', 'trusted', 'free', 'license', 'page', 'pageSize', 'sort', 'publisher', 'other')
    fc.assert(fc.property(fc.dictionary(name, fc.oneof(fc.string({ maxLength: 300 }), fc.constantFrom('', '1', 'true', 'beta', 'name', '-1', '1.5', '1000', '1001'))), params => {
      try {
        const query = parseSearchQuery(params)
        assert.ok(query.limit >= 1 && query.limit <= SEARCH_LIMITS.pageSize)
        assert.ok(query.query.length <= SEARCH_LIMITS.queryLength)
      } catch (err) {
        assert.equal((err as Error).name, 'InvalidQueryError', String(err))
      }
    }))
  })
})

describe('releases by app and publisher', () => {
  it('finds every release of an app or a key, whatever its trust, in the order taken in', async () => {
    const A = key(1)
    const B = key(2)
    const catalog = await createCatalog({}, { roots: [key(100)] })
    const first = await release({ publisher: A, appId: 'org.example.One', version: '1.0', time: 1 })
    const beta = await release({ publisher: A, appId: 'org.example.One', version: '2.0-beta', channel: 'beta', time: 2, previous: first.id })
    const arm = await release({ publisher: A, appId: 'org.example.One', version: '1.0', arch: 'aarch64', time: 3 })
    const squat = await release({ publisher: B, appId: 'org.example.One', version: '9.0', time: 4 })
    const other = await release({ publisher: A, appId: 'org.example.Two', time: 5 })
    catalog.addAll([first, beta, arm, squat, other])
    const ids = (list: Array<{ id: string }>) => list.map(r => r.id)
    assert.deepEqual(ids(catalog.releases({ appId: 'org.example.One' })), [first.id, beta.id, arm.id, squat.id])
    assert.deepEqual(ids(catalog.releases({ appId: 'org.example.One', publisher: A })), [first.id, beta.id, arm.id], 'the untrusted owner\'s releases too')
    assert.deepEqual(ids(catalog.releases({ appId: 'org.example.One', publisher: B })), [squat.id], 'a conflicting claimant\'s')
    assert.deepEqual(ids(catalog.releases({ publisher: A })), [first.id, beta.id, arm.id, other.id])
    assert.deepEqual(ids(catalog.releases({ appId: 'org.example.One', publisher: A, channel: 'release', arch: 'x86_64' })), [first.id])
    assert.deepEqual(ids(catalog.releases({ appId: 'org.example.One', publisher: A, version: '1.0' })), [first.id, arm.id])
    assert.deepEqual(catalog.releases({ appId: 'org.example.None' }), [])
    assert.deepEqual(catalog.releases({ appId: 'org.example.Two', publisher: B }), [])
    assert.equal(catalog.releases({ appId: 'org.example.One' })[0]!.record.version, '1.0', 'the record itself')
    rejects(() => catalog.releases({ channel: 'release' }), 'appId', 'a lookup by neither index')
    rejects(() => catalog.releases({ appId: 1 as never }), 'appId', 'a non-string app id')
    await catalog.stop()
  })
})
