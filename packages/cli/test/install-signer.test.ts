import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createCatalog } from '@hubless/query'
import { key, release, rotate } from '../../query/test/records.ts'
import { checkSigner } from '../src/install/select.ts'
import type { InstalledApp } from '../src/install/installed.ts'
import type { Selection } from '../src/install/select.ts'

const APP = 'org.example.App'
const [ROOT, A, B, C] = [key(1), key(2), key(3), key(4)]

function installedBy (publisher: string): InstalledApp {
  return { appId: APP, channel: 'release', arch: 'x86_64', id: 'x', version: '1.0', publisher, sha256: '0'.repeat(64), cid: 'bafy', size: 1, path: '/x', installedAt: 0 }
}

/** Signer pinning: an update by another key passes only when a rotation links the keys, or the user says so */
describe('install: signer pinning', () => {
  it('takes an update by the key a rotate-key record moved the publisher to', async () => {
    const catalog = await createCatalog({}, { roots: [ROOT, A] })
    catalog.addAll([await release({ publisher: A, version: '1.0', time: 100 }), await rotate(A, B, 150), await release({ publisher: B, version: '2.0', time: 200 })])
    const selection = { app: catalog.app(APP)!, release: catalog.latest(APP)!, trust: catalog.app(APP)!.trust } as Selection
    assert.equal(selection.release.publisher, B)
    assert.doesNotThrow(() => { checkSigner(selection, installedBy(A), false) })
    await catalog.stop()
  })

  it('refuses an update by an unlinked key, naming both, unless allowed', async () => {
    // the reader trusts C first-hand and A not at all: the catalog picks C's 2.0
    const catalog = await createCatalog({}, { roots: [C] })
    catalog.addAll([await release({ publisher: A, version: '1.0', time: 100 }), await release({ publisher: C, version: '2.0', time: 200 })])
    const selection = { app: catalog.app(APP)!, release: catalog.latest(APP)!, trust: catalog.app(APP)!.trust } as Selection
    assert.equal(selection.release.publisher, C)
    assert.throws(() => { checkSigner(selection, installedBy(A), false) }, (err: Error) => err.name === 'SignerChangedError' && err.message.includes(A) && err.message.includes(C))
    assert.doesNotThrow(() => { checkSigner(selection, installedBy(A), true) })
    await catalog.stop()
  })
})
