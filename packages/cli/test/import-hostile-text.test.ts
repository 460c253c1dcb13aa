import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { buildReleaseRecord, createPublisherKey, signRecord, validateRecord } from '@hubless/registry/records'
import type { ReleaseDraft as ImageDraft } from '@hubless/appimage'
import { mapAppImageHubCatalog } from '@hubless/mirror'
import { imageApp, imageVersion } from '@hubless/mirror'

/**
 * Outside text (a catalog, an image's AppStream and desktop files) with what the registry now
 * refuses — bidirectional formatting, invisible characters, lone surrogates, path-like versions —
 * still becomes a record the registry accepts: the importers drop or replace it.
 */
describe('importing hostile or broken text', () => {
  const key = createPublisherKey()

  it('a hub entry with overrides, invisibles, a lone surrogate and a path for a version imports, cleaned', async () => {
    const mapped = mapAppImageHubCatalog([{
      id: 'Sneaky',
      sourceUrl: 'https://example.org/Sneaky-1.0-x86_64.AppImage',
      name: 'Fire\u202efox\u200b\ud800',
      summary: 'A\u2066 browser &#x200B;for 👩‍💻 \udc00',
      description: '<p>\u200bText with &#8238;override</p>',
      developerName: 'Moz\u200dilla',
      categories: ['Net\ufeffwork'],
      version: '../../etc/passwd'
    }, {
      id: 'Hidden',
      sourceUrl: 'https://example.org/Hidden.AppImage',
      version: '.glibc2.17'
    }])
    assert.equal(mapped.drafts.length, 2, JSON.stringify(mapped.skipped))
    const [hidden, sneaky] = mapped.drafts
    assert.equal(sneaky?.app.name, 'Firefox')
    assert.equal(sneaky?.app.summary, 'A browser for 👩💻')
    assert.equal(sneaky?.app.description, 'Text with override')
    assert.equal(sneaky?.app.developer, 'Mozilla')
    assert.deepEqual(sneaky?.app.categories, ['Network'])
    assert.equal(sneaky?.version, '-..-etc-passwd')
    assert.equal(hidden?.version, 'glibc2.17')
    for (const draft of mapped.drafts) await signRecord(buildReleaseRecord(draft, { publisher: key.did }), key)
  })

  it('the real catalog still imports every app it did (1669 of 1672), none with refused text', () => {
    const catalog = JSON.parse(readFileSync(new URL('../../../data/appimagehub-apps.json', import.meta.url), 'utf8')) as unknown
    const mapped = mapAppImageHubCatalog(catalog)
    assert.equal(mapped.drafts.length, 1669)
    for (const draft of mapped.drafts) validateRecord(buildReleaseRecord(draft, { publisher: key.did }))
  })

  it('an AppImage whose metadata holds them publishes, cleaned', async () => {
    const draft = {
      appId: 'org.example.Sneaky',
      name: '\u202eSneaky\u200b',
      version: '.1/2\\3',
      summary: 'Sum\u2069mary \ud800',
      description: 'Para one\u200b\n\nPara two 👩‍💻',
      categories: ['Util\u200bity', '\u200b'],
      keywords: [],
      license: 'MIT\ufeff',
      developer: 'Dev\u2060eloper'
    } as unknown as ImageDraft
    const app = imageApp(draft, undefined)
    assert.deepEqual(app, {
      name: 'Sneaky',
      summary: 'Summary',
      description: 'Para one\n\nPara two 👩‍💻',
      categories: ['Utility'],
      keywords: undefined,
      license: 'MIT',
      developer: 'Developer',
      homepage: undefined,
      icon: undefined
    })
    assert.equal(imageVersion(draft), '1-2-3')
    const record = buildReleaseRecord({
      appId: draft.appId, version: imageVersion(draft), channel: 'release', arch: 'x86_64', content: { urls: ['https://example.org/a'] }, app
    }, { publisher: key.did })
    await signRecord(record, key)
  })
})
