import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createCatalog } from '../src/index.ts'
import { endorse, key, release, revoke, rotate, unendorse } from './records.ts'

const ROOT = key(100)
const A = key(1)
const B = key(2)
const C = key(3)
const SQUATTER = key(66)
const APP = 'org.example.App'

describe('trust', () => {
  it('trusts roots and what they endorse up to the depth limit, with the path', async () => {
    const catalog = await createCatalog({}, { roots: [ROOT] })
    catalog.addAll([
      await endorse(ROOT, A),
      await endorse(A, B),
      await endorse(B, C),
      await release({ publisher: ROOT, appId: 'org.example.Root' }),
      await release({ publisher: A, appId: 'org.example.A' }),
      await release({ publisher: B, appId: 'org.example.B' }),
      await release({ publisher: C, appId: 'org.example.C' })
    ])
    assert.equal(catalog.app('org.example.Root')!.trust.explanation, `trusted: root ${ROOT} is one of your roots`)
    const b = catalog.app('org.example.B')!.trust
    assert.equal(b.status, 'trusted')
    assert.deepEqual(b.path, [ROOT, A, B])
    assert.equal(b.explanation, `trusted via root ${ROOT} -> ${A} -> ${B}`)
    assert.equal(catalog.app('org.example.C')!.trust.status, 'unverified', 'depth 3 is beyond the default limit of 2')
    assert.deepEqual(catalog.trusted().map(t => [t.key, t.depth]).sort(), [[ROOT, 0], [A, 1], [B, 2]].sort())

    const deeper = await createCatalog({}, { roots: [ROOT], maxDepth: 3 })
    deeper.addAll([await endorse(ROOT, A), await endorse(A, B), await endorse(B, C), await release({ publisher: C, appId: 'org.example.C' })])
    assert.equal(deeper.app('org.example.C')!.trust.status, 'trusted')
  })

  it('gives ownership to the trusted publisher and shows squatters as conflicting', async () => {
    const catalog = await createCatalog({}, { roots: [ROOT] })
    catalog.addAll([
      await release({ publisher: SQUATTER, version: '99.0', time: 1 }),
      await release({ publisher: A, version: '1.0', time: 5 })
    ])
    let view = catalog.app(APP)!
    assert.equal(view.trust.status, 'unverified')
    assert.equal(view.trust.publisher, SQUATTER, 'with nobody trusted, the first claimant is shown')
    assert.equal(view.claimants[0]!.trust.status, 'conflicting')
    assert.equal(view.claimants[0]!.trust.publisher, A)

    const changed = catalog.add(await endorse(ROOT, A))
    assert.deepEqual(changed, [APP])
    view = catalog.app(APP)!
    assert.equal(view.trust.status, 'trusted')
    assert.equal(view.trust.publisher, A)
    assert.equal(catalog.latest(APP)?.version, '1.0', 'the squatter\'s inflated version is not served (fast-forward)')
    assert.equal(view.claimants[0]!.trust.status, 'conflicting')
    assert.match(view.claimants[0]!.trust.explanation, /conflicting: .* also publishes org\.example\.App, which .* owns \(trusted\)/)
    assert.equal(catalog.search({ query: 'App', trustedOnly: true }).total, 1)
  })

  it('honours endorsement scope and expiry against the injected clock', async () => {
    let now = 1_000
    const catalog = await createCatalog({ clock: () => now }, { roots: [ROOT] })
    catalog.addAll([
      await endorse(ROOT, A, { appIds: ['org.example.Scoped'] }),
      await endorse(ROOT, B, { until: 2_000 }),
      await release({ publisher: A, appId: 'org.example.Scoped' }),
      await release({ publisher: A, appId: 'org.example.Other' }),
      await release({ publisher: B, appId: 'org.example.Expiring' })
    ])
    assert.equal(catalog.app('org.example.Scoped')!.trust.status, 'trusted')
    assert.match(catalog.app('org.example.Scoped')!.trust.explanation, /\[for org\.example\.Scoped\]/)
    assert.equal(catalog.app('org.example.Other')!.trust.status, 'unverified', 'scope limits the endorsement')
    assert.equal(catalog.app('org.example.Expiring')!.trust.status, 'trusted')
    const changes: string[][] = []
    catalog.events.addEventListener('changed', (event) => { changes.push(event.detail.appIds) })
    now = 2_000
    assert.equal(catalog.app('org.example.Expiring')!.trust.status, 'unverified', 'expired at until')
    assert.deepEqual(changes, [['org.example.Expiring']])
  })

  it('scopes carry along a chain: an endorser trusted for one app cannot widen it', async () => {
    const catalog = await createCatalog({}, { roots: [ROOT] })
    catalog.addAll([
      await endorse(ROOT, A, { appIds: ['org.example.Scoped'] }),
      await endorse(A, B),
      await release({ publisher: B, appId: 'org.example.Scoped' }),
      await release({ publisher: B, appId: 'org.example.Other' })
    ])
    assert.equal(catalog.app('org.example.Scoped')!.trust.status, 'trusted')
    assert.equal(catalog.app('org.example.Other')!.trust.status, 'unverified')
  })

  it('is cut by unendorse, and restored by a later endorse', async () => {
    const catalog = await createCatalog({}, { roots: [ROOT] })
    catalog.addAll([await endorse(ROOT, A, { time: 10 }), await release({ publisher: A })])
    assert.equal(catalog.app(APP)!.trust.status, 'trusted')
    catalog.add(await unendorse(ROOT, A, 20))
    assert.equal(catalog.app(APP)!.trust.status, 'unverified')
    catalog.add(await endorse(ROOT, A, { time: 30 }))
    assert.equal(catalog.app(APP)!.trust.status, 'trusted')
  })

  it('distrusts releases signed at or after a key revocation (key compromise)', async () => {
    const catalog = await createCatalog({}, { roots: [ROOT] })
    catalog.addAll([
      await endorse(ROOT, A),
      await release({ publisher: A, version: '1.0', time: 100 }),
      await release({ publisher: A, version: '1.1', time: 200 }),
      await revoke(A, 150, 300),
      // the thief's release, back-dated to just after the revocation point
      await release({ publisher: A, version: '9.9', time: 150 })
    ])
    const view = catalog.app(APP)!
    assert.equal(view.trust.status, 'trusted')
    assert.equal(catalog.latest(APP)?.version, '1.0')
    assert.deepEqual(view.history.map(r => [r.version, r.state]), [['9.9', 'revoked'], ['1.1', 'revoked'], ['1.0', 'ok']])
    assert.match(view.history[0]!.reason!, /revoked/)
  })

  it('ignores endorsements a key signed after its revocation', async () => {
    const catalog = await createCatalog({}, { roots: [ROOT] })
    catalog.addAll([await endorse(ROOT, A), await revoke(A, 50), await endorse(A, B, { time: 60 }), await release({ publisher: B })])
    assert.equal(catalog.app(APP)!.trust.status, 'unverified')
  })

  it('carries trust across a key rotation', async () => {
    const catalog = await createCatalog({}, { roots: [ROOT] })
    catalog.addAll([
      await endorse(ROOT, A),
      await release({ publisher: A, version: '1.0', time: 100 }),
      await rotate(A, B, 150),
      await release({ publisher: B, version: '2.0', time: 200 }),
      await release({ publisher: A, version: '3.0', time: 250 })
    ])
    const view = catalog.app(APP)!
    assert.equal(view.trust.status, 'trusted')
    assert.equal(view.trust.publisher, B, 'the identity is the new key')
    assert.equal(view.claimants.length, 0, 'old and new key are one publisher, not a conflict')
    assert.match(view.trust.explanation, new RegExp(`${A} \\(rotated to ${B}\\)`))
    assert.equal(catalog.latest(APP)?.version, '2.0', 'the old key signs nothing after the rotation')
    assert.equal(view.history.find(r => r.version === '3.0')!.state, 'revoked')
  })

  it('carries a root across its own rotation', async () => {
    const catalog = await createCatalog({}, { roots: [A] })
    catalog.addAll([await rotate(A, B, 10), await release({ publisher: B })])
    assert.equal(catalog.app(APP)!.trust.status, 'trusted')
  })

  it('labels imported records and trusts them only through the importing key', async () => {
    const catalog = await createCatalog({}, { roots: [ROOT] })
    catalog.add(await release({ publisher: C, imported: true }))
    const view = catalog.app(APP)!
    assert.equal(view.trust.status, 'imported')
    assert.match(view.trust.explanation, /imported from appimagehub/)
    catalog.add(await endorse(ROOT, C))
    assert.equal(catalog.app(APP)!.trust.status, 'trusted')
  })

  it('re-evaluates when the roots change, and names bad roots', async () => {
    const catalog = await createCatalog()
    catalog.add(await release({ publisher: A }))
    assert.match(catalog.app(APP)!.trust.explanation, /you have no trust roots/)
    catalog.setRoots([A])
    assert.equal(catalog.app(APP)!.trust.status, 'trusted')
    assert.deepEqual(catalog.roots(), [A])
    assert.throws(() => { catalog.setRoots(['not-a-key']) }, { name: 'InvalidTrustRootError' })
    await assert.rejects(createCatalog({}, { roots: ['did:web:example.org'] }), { name: 'InvalidTrustRootError' })
  })

  it('breaks a first-claim tie by record id, and with depth 0 trusts only the roots', async () => {
    const catalog = await createCatalog({}, { roots: [ROOT], maxDepth: 0 })
    const a = await release({ publisher: A, time: 7 })
    const b = await release({ publisher: B, time: 7 })
    catalog.addAll([a, b, await endorse(ROOT, A)])
    const first = a.id < b.id ? A : B
    const view = catalog.app(APP)!
    assert.equal(view.trust.status, 'unverified', 'maxDepth 0: an endorsement reaches nobody')
    assert.equal(view.trust.publisher, first)
    await assert.rejects(createCatalog({}, { maxDepth: -1 }), { name: 'InvalidTrustPolicyError' })
  })

  it('follows the clock both ways', async () => {
    let now = 3_000
    const catalog = await createCatalog({ clock: () => now }, { roots: [ROOT] })
    catalog.addAll([await endorse(ROOT, A, { until: 2_000 }), await release({ publisher: A })])
    assert.equal(catalog.app(APP)!.trust.status, 'unverified')
    now = 1_000
    assert.equal(catalog.app(APP)!.trust.status, 'trusted', 'a clock set back sees the endorsement again')
  })

  it('follows endorsements through an endorser that rotated its key', async () => {
    const catalog = await createCatalog({}, { roots: [ROOT] })
    catalog.addAll([
      await endorse(ROOT, A, { time: 10 }),
      await rotate(A, B, 20),
      await endorse(B, C, { time: 30 }),
      await release({ publisher: C })
    ])
    const trust = catalog.app(APP)!.trust
    assert.equal(trust.status, 'trusted')
    assert.deepEqual(trust.path, [ROOT, A, C])
  })
})
