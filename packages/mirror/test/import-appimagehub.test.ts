import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'node:test'
import { buildReleaseRecord, createPublisherKey, isValidAppId, validateRecord } from '@hubless/registry/records'
import fc from 'fast-check'
import { isImportableAppId } from '../src/import/app-id.ts'
import { UNKNOWN_VERSION, mapAppImageHubCatalog, normalizeArch } from '../src/import/appimagehub.ts'
import { draftFingerprint, draftOfRecord } from '../src/import/fingerprint.ts'
import { readAppImageHubCatalog } from '../src/import/read-catalog.ts'
import { appstreamToText, cut } from '../src/import/text.ts'

const catalogPath = new URL('../../../data/appimagehub-apps.json', import.meta.url)
const catalog = JSON.parse(readFileSync(catalogPath, 'utf8')) as Array<Record<string, unknown>>
const result = mapAppImageHubCatalog(catalog)
const bySource = new Map(result.drafts.map(d => [d.imported?.sourceId, d]))

describe('importing AppImageHub (data/appimagehub-apps.json)', () => {
  it('maps nearly every real entry and accounts for every one', () => {
    assert.equal(result.total, 1672)
    assert.ok(result.drafts.length >= 1660, `expected at least 1660 drafts, got ${result.drafts.length}`)
    assert.equal(result.drafts.length + result.skipped.length, result.total, 'every entry is mapped or reported as skipped')
    for (const skip of result.skipped) {
      assert.ok(skip.reason.length > 10, `a reason for skipping ${skip.sourceId}`)
    }
    assert.deepEqual(result.skipped.map(s => s.sourceId).sort(), ['Polypane', 'gxchain', 'sayonara'],
      'only the entries without any http(s) URL are skipped')
  })

  it('gives every draft a valid, unique app id and a record the registry accepts', () => {
    const key = createPublisherKey()
    const ids = new Set<string>()
    for (const draft of result.drafts) {
      assert.ok(isValidAppId(draft.appId) && isImportableAppId(draft.appId), `valid app id: ${draft.appId}`)
      assert.ok(!ids.has(draft.appId.toLowerCase()), `unique app id: ${draft.appId}`)
      ids.add(draft.appId.toLowerCase())
      const record = validateRecord(buildReleaseRecord(draft, { publisher: key.did }))
      assert.equal(record.kind, 'release')
      assert.equal(draft.channel, 'release')
      assert.equal(draft.imported?.source, 'appimagehub')
      assert.equal(draft.content.cid, undefined, 'URL-only content')
      assert.equal(draft.content.sha256, undefined, 'URL-only content')
      assert.ok(draft.content.urls.length > 0 && draft.content.urls.every(u => /^https?:\/\//.test(u)))
      for (const image of [draft.app.icon, ...(draft.app.screenshots ?? [])]) {
        if (image != null) assert.match(image, /^https?:\/\/[^\s]+$/, `absolute image URL in ${draft.appId}`)
      }
    }
    assert.equal(new Set(result.drafts.map(d => d.imported?.sourceId)).size, result.drafts.length, 'one draft per hub entry')
  })

  it('takes app ids from AppStream, then GitHub, then the hub id', () => {
    assert.equal(bySource.get('Krita')?.appId, 'org.kde.krita')
    assert.equal(bySource.get('Kdenlive')?.appId, 'org.kde.kdenlive',
      'a .desktop suffix on an AppStream id is dropped')
    assert.equal(bySource.get('4KWALL')?.appId, 'io.github.rishabh3354._4KWALL', 'a segment never starts with a digit')
    const python = catalog.find(e => e.appstreamId === 'python3.8.12')
    assert.ok(python != null)
    assert.doesNotMatch(bySource.get(python.id as string)?.appId ?? '', /^python3/, 'a file name is not an AppStream id')
    // FreeCAD2 declares org.freecadweb.FreeCAD like another entry: one keeps it, the other is renamed and reported
    const freecad = result.drafts.filter(d => d.appId === 'org.freecadweb.FreeCAD')
    assert.equal(freecad.length, 1)
    const renamed = result.renamed.find(r => r.sourceId === 'FreeCAD2')
    assert.equal(renamed?.wanted, 'org.freecadweb.FreeCAD')
    assert.equal(bySource.get('FreeCAD2')?.appId, renamed?.appId)
    assert.ok(result.drafts.some(d => d.appId.startsWith('org.appimagehub.')))
  })

  it('maps metadata, versions and architectures as documented', () => {
    const wall = bySource.get('4KWALL')
    assert.equal(wall?.version, '2026.7.9')
    assert.equal(wall?.arch, 'x86_64')
    assert.equal(wall?.app.icon, 'https://appimage.github.io/database/4KWALL/icons/512x512/com.warlordsoftwares.wallpaper-app-4kwall.png')
    assert.deepEqual(wall?.app.screenshots, ['https://appimage.github.io/database/4KWALL/screenshot.png'])
    assert.deepEqual(wall?.app.categories, ['Graphics'])
    assert.equal(wall?.app.developer, 'rishabh3354')
    assert.equal(wall?.app.homepage, 'https://github.com/rishabh3354/4KWALL')
    assert.deepEqual(wall?.content.urls, ['https://github.com/rishabh3354/4KWALL', 'https://github.com/rishabh3354/4KWALL/releases'])

    const noVersion = catalog.filter(e => e.version == null && e.appstreamLatestRelease == null && bySource.has(e.id as string))
    assert.ok(noVersion.length > 100)
    assert.ok(noVersion.every(e => bySource.get(e.id as string)?.version === UNKNOWN_VERSION))
    // plus the entries whose version is not a version (spaces, control characters)
    assert.ok(result.defaults.version >= noVersion.length && result.defaults.version < noVersion.length + 10)

    assert.equal(bySource.get('Xash3DFWGS')?.arch, 'i686', 'the architecture is read from the file name when the hub has none')
    assert.equal(normalizeArch('AMD64'), 'x86_64')
    assert.equal(normalizeArch('arm64'), 'aarch64')
    assert.equal(normalizeArch('sparc'), undefined)

    const pool = bySource.get('AppImagePool')
    assert.equal(pool?.app.screenshots?.length, 4, 'URLs pasted into one string are split')
    assert.match(pool?.app.description ?? '', /^Simple AppImageHub Client\n\nTop Features:\n\n• FLOSS/)
    assert.ok(result.drafts.every(d => d.app.license !== 'NOASSERTION'))
  })

  it('is deterministic and order-independent, so re-importing is idempotent', () => {
    const again = mapAppImageHubCatalog(JSON.parse(readFileSync(catalogPath, 'utf8')))
    assert.deepEqual(again, result)
    const shuffled = [...catalog].reverse()
    assert.deepEqual(mapAppImageHubCatalog(shuffled).drafts, result.drafts, 'file order does not change the drafts')
    const prints = new Set(result.drafts.map(draftFingerprint))
    assert.equal(prints.size, result.drafts.length)

    // the fingerprint of a signed-and-stored record equals its draft's: the lead's skip test
    const key = createPublisherKey()
    for (const draft of result.drafts.slice(0, 50)) {
      const record = buildReleaseRecord(draft, { publisher: key.did, time: 123 })
      assert.equal(draftFingerprint(draftOfRecord(record)), draftFingerprint(draft))
    }
  })

  it('rejects what is not a catalog with a named error and reports bad entries', () => {
    assert.throws(() => mapAppImageHubCatalog({ apps: [] }), { name: 'InvalidCatalogError' })
    assert.throws(() => mapAppImageHubCatalog('[]'), { name: 'InvalidCatalogError' })
    const odd = mapAppImageHubCatalog([
      null,
      { name: 'no id' },
      { id: 'ok', sourceUrl: 'https://example.org/Ok-1.0-x86_64.AppImage', name: 'Ok\u001b[31m\r\n', version: 'has space', categories: [1, 'Utility', 'Utility'] },
      { id: 'ok', sourceUrl: 'https://example.org/dup.AppImage' },
      { id: 'nourl', sourceUrl: 'ftp://example.org/x.AppImage', links: [{ type: 'Download', url: 'javascript:alert(1)' }] },
      { id: 'bad-images', sourceUrl: 'https://example.org/x', icons: ['../../etc/passwd', 'javascript:alert(1)', '/abs.png'], screenshots: 'nope' }
    ])
    assert.equal(odd.drafts.length, 2)
    assert.deepEqual(odd.skipped.map(s => s.sourceId), ['#0', '#1', 'ok', 'nourl'])
    const ok = odd.drafts.find(d => d.imported?.sourceId === 'ok')
    assert.equal(ok?.app.name, 'Ok [31m', 'control characters are removed')
    assert.equal(ok?.version, UNKNOWN_VERSION, 'a version with spaces is not a version')
    assert.deepEqual(ok?.app.categories, ['Utility'])
    const bad = odd.drafts.find(d => d.imported?.sourceId === 'bad-images')
    assert.equal(bad?.app.icon, undefined)
    assert.equal(bad?.app.screenshots, undefined)
  })

  it('never throws on arbitrary entries and every draft it makes is a valid record (property)', () => {
    const key = createPublisherKey()
    const text = fc.oneof(fc.string(), fc.constantFrom('https://example.org/a.AppImage', 'org.example.App', 'x86_64', 'a/b', '', '<p>x &amp; y</p>'))
    const entry = fc.record({
      id: fc.oneof(text, fc.constant(undefined)),
      sourceUrl: fc.oneof(text, fc.webUrl()),
      githubRepo: text,
      name: text,
      summary: text,
      description: text,
      categories: fc.array(fc.oneof(text, fc.integer())),
      links: fc.array(fc.record({ type: fc.constantFrom('Download', 'GitHub', 'Install'), url: fc.oneof(text, fc.webUrl()) })),
      icons: fc.array(text),
      screenshots: fc.array(fc.oneof(text, fc.webUrl())),
      version: text,
      architecture: text,
      appstreamId: text,
      license: text
    }, { requiredKeys: [] })
    fc.assert(fc.property(fc.array(fc.oneof(entry, fc.anything())), entries => {
      const mapped = mapAppImageHubCatalog(entries)
      assert.equal(mapped.drafts.length + mapped.skipped.length, entries.length)
      for (const draft of mapped.drafts) validateRecord(buildReleaseRecord(draft, { publisher: key.did }))
    }), { numRuns: 300 })
  })

  it('reads a catalog file, with named errors for files that are not one', async () => {
    const read = await readAppImageHubCatalog(fileURLToPath(catalogPath), { signal: AbortSignal.timeout(10_000) })
    assert.deepEqual(read, result)
    const dir = mkdtempSync(join(tmpdir(), 'hubless-import-'))
    try {
      writeFileSync(join(dir, 'broken.json'), '[{"id": "x",')
      await assert.rejects(readAppImageHubCatalog(join(dir, 'broken.json')), { name: 'InvalidCatalogError' })
      writeFileSync(join(dir, 'object.json'), '{"items": []}')
      await assert.rejects(readAppImageHubCatalog(join(dir, 'object.json')), { name: 'InvalidCatalogError' })
      await assert.rejects(readAppImageHubCatalog(join(dir, 'missing.json')), { code: 'ENOENT' })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('turns AppStream markup into plain text', () => {
    assert.equal(appstreamToText('<p>A &amp; B</p><ul><li>one</li><li><em>two</em></li></ul><p>end&#33;</p>', 1000), 'A & B\n\n• one\n• two\n\nend!')
    assert.equal(appstreamToText('plain\r\n\r\nsecond', 1000), 'plain\n\nsecond')
    assert.equal(cut('abcdef', 4), 'abc…')
    assert.equal(cut('ab😀', 3), 'ab…', 'never splits a surrogate pair')
  })
})
