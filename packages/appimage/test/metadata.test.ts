import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { inspectAppImage, openAppImage, parseAppStream, parseDesktopEntry, readAppImageMetadata } from '../src/index.ts'
import { DESKTOP, METAINFO } from './fixtures/build.ts'
import { useFixtures } from './helpers.ts'

describe('desktop entry', () => {
  it('parses groups, locale keys, escapes, lists and booleans', () => {
    const extra = 'Terminal=false\nPath=/opt/a\\sb\nComment[de_DE]=Tut Dinge\nX-Multi=line1\\nline2\\ttab\\\\back\n'
    const d = parseDesktopEntry(DESKTOP.replace('[Desktop Action new]', `${extra}\n[Desktop Action new]`))
    assert.equal(d.get('Name'), 'My App')
    assert.equal(d.get('Name', 'de_AT.UTF-8'), 'Meine App', 'de_AT falls back to de')
    assert.equal(d.get('Name', 'fr'), 'My App')
    assert.equal(d.get('Comment', 'de_DE@euro'), 'Tut Dinge', 'de_DE@euro falls back to de_DE')
    assert.deepEqual(d.getList('Categories'), ['Utility', 'Development'])
    assert.deepEqual(d.getList('Keywords'), ['example', 'test;escaped'])
    assert.equal(d.getBoolean('Terminal'), false)
    assert.equal(d.get('Path'), '/opt/a b')
    assert.equal(d.get('X-Multi'), 'line1\nline2\ttab\\back')
    assert.equal(d.groups['Desktop Action new']?.['Exec'], 'myapp --new')
  })

  it('rejects malformed files with MetadataParseError', () => {
    for (const bad of ['Name=x\n[Desktop Entry]\n', '[Desktop Entry\nName=x', '[Desktop Entry]\nthis is not a key\n', '[A]\n[A]\n', '[Desktop Entry]\nBad Key=1\n']) {
      assert.throws(() => parseDesktopEntry(bad), { name: 'MetadataParseError' }, JSON.stringify(bad))
    }
  })

  it('never throws anything but MetadataParseError on arbitrary text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 400 }), (s) => {
      try {
        parseDesktopEntry(`[Desktop Entry]\n${s}`)
      } catch (err) {
        return (err as Error).name === 'MetadataParseError'
      }
      return true
    }), { numRuns: 300 })
  })
})

describe('AppStream metainfo', () => {
  it('reads id, names, plain-text description, releases, license, developer, URLs and content rating', () => {
    const c = parseAppStream(METAINFO)
    assert.equal(c.id, 'org.example.MyApp')
    assert.equal(c.type, 'desktop-application')
    assert.equal(c.name, 'My App')
    assert.equal(c.names['de'], 'Meine App')
    assert.equal(c.summary, 'Does things & more')
    assert.equal(c.description, 'My App does things.\n\n- First feature\n- Second feature')
    assert.equal(c.projectLicense, 'GPL-3.0-or-later')
    assert.equal(c.developer, 'Example Developers')
    assert.deepEqual(c.urls, { homepage: 'https://example.org/myapp', bugtracker: 'https://example.org/myapp/issues' })
    assert.deepEqual(c.releases.map(r => r.version), ['1.1.0', '1.0.0'])
    assert.deepEqual(c.contentRating, { type: 'oars-1.1', attributes: { 'social-chat': 'mild' } })
    assert.deepEqual(c.desktopIds, ['org.example.MyApp.desktop'])
  })

  it('reads legacy developer_name and timestamps, and rejects XML that is not well-formed', () => {
    const c = parseAppStream('<component><id>a.b.c</id><developer_name>Dev</developer_name><releases><release version="2" timestamp="1700000000"/></releases></component>')
    assert.equal(c.developer, 'Dev')
    assert.equal(c.releases[0]?.date, '2023-11-14')
    assert.throws(() => parseAppStream('<component><id>x</component>'), { name: 'MetadataParseError' })
    assert.throws(() => parseAppStream('<application/>'), { name: 'MetadataParseError' })
    // DOCTYPE entities are never expanded, so entity bombs stay small
    const bomb = parseAppStream('<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><component><id>&b;</id></component>')
    assert.ok((bomb.id ?? '').length < 10)
  })
})

describe('release draft from an image', () => {
  const full = useFixtures([{ compressor: 'zstd', blockSize: 131072, fragments: true }])

  it('takes the app id and facts from the metainfo', async () => {
    const app = await openAppImage(full.fixtures[0]!.path)
    try {
      const { draft, icon, desktop, metainfo } = await readAppImageMetadata(app)
      assert.equal(draft.appId, 'org.example.MyApp')
      assert.equal(draft.derivedAppId, false)
      assert.equal(draft.version, '1.1.0')
      assert.equal(draft.license, 'GPL-3.0-or-later')
      assert.equal(draft.homepage, 'https://example.org/myapp')
      assert.deepEqual(draft.categories, ['Utility', 'Development'])
      assert.equal(draft.architecture, 'x86_64')
      assert.equal(draft.updateInformation, 'gh-releases-zsync|example|myapp|latest|MyApp-*x86_64.AppImage.zsync')
      assert.equal(icon?.path, '.DirIcon')
      assert.equal(icon?.mediaType, 'image/png')
      assert.equal(desktop?.path, 'org.example.MyApp.desktop')
      assert.equal(metainfo?.path, 'usr/share/metainfo/org.example.MyApp.metainfo.xml')
      assert.deepEqual(JSON.parse(JSON.stringify(draft)), draft, 'the draft is plain JSON data')
    } finally {
      await app.close()
    }
  })
})

describe('release draft without metainfo', () => {
  const bare = useFixtures([{ compressor: 'gzip', blockSize: 131072, fragments: false }], { noMetainfo: true, noDirIcon: true, desktopName: 'myapp.desktop' })

  it('derives an app id, flags it, and finds the icon by its Icon= name', async () => {
    const report = await inspectAppImage(bare.fixtures[0]!.path, { verifySignature: false })
    const draft = report.draft!
    assert.equal(draft.derivedAppId, true)
    assert.equal(draft.appIdSource, 'update-information')
    assert.equal(draft.appId, 'io.github.example.myapp')
    assert.equal(draft.name, 'My App')
    assert.equal(draft.summary, 'Does things')
    assert.equal(draft.version, '1.1.0', 'X-AppImage-Version')
    assert.deepEqual(draft.keywords, ['example', 'test;escaped'])
    assert.equal(draft.icon?.path, 'usr/share/icons/hicolor/256x256/apps/org.example.MyApp.png')
    assert.equal(report.signature, undefined)
  })
})
