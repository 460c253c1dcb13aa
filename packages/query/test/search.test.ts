import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createCatalog } from '../src/index.ts'
import type { Catalog } from '../src/index.ts'
import { endorse, key, release } from './records.ts'

const ROOT = key(100)
const KDE = key(1)
const OTHER = key(2)

async function fixture (): Promise<Catalog> {
  const catalog = await createCatalog({}, { roots: [ROOT] })
  catalog.addAll([
    await endorse(ROOT, KDE),
    await release({ publisher: KDE, appId: 'org.kde.kdenlive', name: 'Kdenlive', summary: 'Video editor', categories: ['AudioVideo', 'Video'], license: 'GPL-3.0-or-later', time: 50 }),
    await release({ publisher: KDE, appId: 'org.kde.krita', name: 'Krita', summary: 'Digital painting and illustration', categories: ['Graphics'], license: 'GPL-3.0-only', time: 40 }),
    await release({ publisher: KDE, appId: 'org.kde.okular', name: 'Okular', summary: 'Universal document and PDF viewer', categories: ['Office', 'Viewer'], license: 'GPL-2.0+', time: 30, channel: 'beta', version: '24.0-beta1' }),
    await release({ publisher: OTHER, appId: 'com.obsproject.Studio', name: 'OBS Studio', summary: 'Live streaming and screen recorder', categories: ['AudioVideo'], license: 'GPL-2.0', time: 60 }),
    await release({ publisher: OTHER, appId: 'com.example.Shotcut', name: 'Shotcut', summary: 'Free cross-platform video editing', categories: ['AudioVideo'], license: 'GPL-3.0', time: 20, arch: 'aarch64' }),
    await release({ publisher: OTHER, appId: 'com.example.Propri', name: 'Propri Viewer', summary: 'Closed image viewer', categories: ['Graphics', 'Viewer'], license: 'LicenseRef-proprietary', time: 10 })
  ])
  return catalog
}

const ids = (catalog: Catalog, query: string): string[] => catalog.search({ query, facets: false }).hits.map(h => h.name)

describe('search', () => {
  it('puts an exact name first, tolerates typos, matches prefixes and any term', async () => {
    const catalog = await fixture()
    assert.equal(ids(catalog, 'krita')[0], 'Krita')
    assert.equal(ids(catalog, 'org.kde.okular')[0], 'Okular', 'exact app id')
    assert.equal(ids(catalog, 'kdenlvie')[0], 'Kdenlive', 'typo')
    assert.equal(ids(catalog, 'kden')[0], 'Kdenlive', 'prefix')
    assert.ok(ids(catalog, 'video editor').slice(0, 2).includes('Kdenlive'))
    assert.equal(ids(catalog, 'record my screen')[0], 'OBS Studio', 'any-term matching with prefixes finds the recorder')
    assert.equal(ids(catalog, 'pdf viewer')[0], 'Okular')
    assert.deepEqual(ids(catalog, 'zzzzqqq'), [])
  })

  it('takes the last word of several as a prefix being typed, from three letters', async () => {
    const catalog = await createCatalog({}, { roots: [ROOT] })
    catalog.addAll([
      await release({ publisher: KDE, appId: 'org.libreoffice.Writer', name: 'LibreOffice Writer', summary: 'Word processor', categories: ['Office'], time: 50 }),
      await release({ publisher: KDE, appId: 'org.libreoffice.Calc', name: 'LibreOffice Calc', summary: 'Spreadsheet', categories: ['Office'], time: 40 }),
      await release({ publisher: OTHER, appId: 'com.example.Wrinkle', name: 'Wrinkle', summary: 'Photo retouching', categories: ['Graphics'], time: 30 })
    ])
    assert.equal(ids(catalog, 'libreoffice wri')[0], 'LibreOffice Writer')
    assert.equal(ids(catalog, 'libreoffice cal')[0], 'LibreOffice Calc')
    assert.ok(!ids(catalog, 'wri libreoffice').slice(0, 1).includes('Wrinkle'), 'only the last word is a prefix under four letters')
  })

  it('filters and counts facets over the other filters', async () => {
    const catalog = await fixture()
    const all = catalog.search()
    assert.equal(all.total, 6)
    assert.deepEqual(all.hits.map(h => h.name), ['Kdenlive', 'Krita', 'OBS Studio', 'Okular', 'Propri Viewer', 'Shotcut'], 'browsing sorts A–Z')
    assert.deepEqual(all.facets!.license, { free: 5, 'non-free': 1 })
    assert.deepEqual(all.facets!.trust, { trusted: 3, unverified: 3 })
    assert.equal(all.facets!.category['AudioVideo'], 3)

    assert.equal(catalog.search({ category: 'audiovideo' }).total, 3, 'category case does not matter')
    const av = catalog.search({ category: 'AudioVideo' })
    assert.equal(av.total, 3)
    assert.equal(av.facets!.category['Graphics'], 2, 'the category facet ignores the category filter')
    assert.deepEqual(av.facets!.trust, { trusted: 1, unverified: 2 })

    const trusted = catalog.search({ category: 'AudioVideo', trustedOnly: true })
    assert.deepEqual(trusted.hits.map(h => h.name), ['Kdenlive'])
    assert.equal(trusted.hits[0]!.trust.status, 'trusted')
    assert.match(trusted.hits[0]!.trust.explanation, /trusted via root/)

    assert.equal(catalog.search({ free: true }).total, 5)
    assert.deepEqual(catalog.search({ arch: 'aarch64' }).hits.map(h => h.name), ['Shotcut'])
    assert.equal(catalog.search({ arch: 'aarch64' }).facets!.arch['x86_64'], 5)
    assert.deepEqual(catalog.search({ publisher: OTHER }).hits.map(h => h.appId).sort(), ['com.example.Propri', 'com.example.Shotcut', 'com.obsproject.Studio'])
  })

  it('follows the reader channel for filters and versions', async () => {
    const catalog = await fixture()
    assert.equal(catalog.search({ channel: 'release' }).total, 5, 'a release reader does not see beta-only Okular')
    const beta = catalog.search({ query: 'okular', channel: 'beta' })
    assert.equal(beta.hits[0]!.version, '24.0-beta1')
    assert.equal(beta.hits[0]!.channel, 'beta')
    assert.equal(catalog.search({ channel: 'release' }).facets!.channel['beta'], 6)
  })

  it('sorts by recent updates and A–Z, and paginates', async () => {
    const catalog = await fixture()
    assert.deepEqual(catalog.search({ sort: 'updated', limit: 3 }).hits.map(h => h.name), ['OBS Studio', 'Kdenlive', 'Krita'])
    const page2 = catalog.search({ sort: 'name', offset: 2, limit: 2 })
    assert.deepEqual(page2.hits.map(h => h.name), ['OBS Studio', 'Okular'])
    assert.equal(page2.total, 6)
    assert.deepEqual(catalog.search({ query: 'viewer', sort: 'name' }).hits.map(h => h.name), ['Okular', 'Propri Viewer'])
  })

  it('keeps the index current when an app is replaced', async () => {
    const catalog = await fixture()
    catalog.add(await release({ publisher: KDE, appId: 'org.kde.krita', name: 'Krita', summary: 'Sketching and painting studio', version: '5.0', time: 70 }))
    assert.equal(ids(catalog, 'sketching')[0], 'Krita')
    assert.equal(catalog.search({ sort: 'updated' }).hits[0]!.name, 'Krita')
  })

  it('keeps the facets of a text search current when an app is replaced or its trust changes', async () => {
    const catalog = await fixture()
    const queries = ['video', 'shotcut', 'viewer', 'editing studio']
    const before = queries.map(query => catalog.search({ query }).facets!)
    const updates = [
      // new metadata (a new document in the index) and a new category
      await release({ publisher: OTHER, appId: 'com.example.Shotcut', name: 'Shotcut', summary: 'Free cross-platform video editing', categories: ['Education'], license: 'GPL-3.0', time: 70, version: '2.0', arch: 'aarch64' }),
      // the same metadata, a new trust status
      await endorse(ROOT, OTHER)
    ]
    for (const update of updates) catalog.add(update)
    const fresh = await fixture()
    fresh.addAll(updates)
    for (const query of queries) assert.deepEqual(catalog.search({ query }), fresh.search({ query }), query)
    assert.notDeepEqual(queries.map(query => catalog.search({ query }).facets!), before, 'the updates changed the facets')
    assert.deepEqual(catalog.search({ query: 'shotcut' }).facets!.category, { Education: 1 })
    assert.equal(catalog.search({ query: 'video' }).facets!.trust['unverified'], undefined)
  })

  it('names bad queries', async () => {
    const catalog = await fixture()
    assert.throws(() => catalog.search({ limit: 0 }), { name: 'InvalidQueryError' })
    assert.throws(() => catalog.search({ offset: -1 }), { name: 'InvalidQueryError' })
    assert.throws(() => catalog.search({ channel: 'stable' as never }), { name: 'InvalidQueryError' })
    assert.throws(() => catalog.search({ sort: 'random' as never }), { name: 'InvalidQueryError' })
    assert.throws(() => catalog.search({ query: 'x'.repeat(600) }), { name: 'InvalidQueryError' })
    assert.throws(() => catalog.latest('org.kde.krita', { channel: 'lts' as never }), { name: 'InvalidQueryError' })
  })
})

describe('typo tolerance', () => {
  it('fixes swapped letters and single edits, and leaves known words alone', async () => {
    const catalog = await fixture()
    assert.equal(ids(catalog, 'krtia')[0], 'Krita', 'a swap of two letters')
    assert.equal(ids(catalog, 'okualr')[0], 'Okular', 'a swap, not at the start')
    assert.equal(ids(catalog, 'shotcat')[0], 'Shotcut', 'one substitution')
    assert.deepEqual(ids(catalog, 'studio'), ['OBS Studio'], 'a known word does not fuzz into others')
  })
})
