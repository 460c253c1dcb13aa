import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { describe, it } from 'node:test'
import * as openpgp from 'openpgp'
import { openAppImage } from '../src/index.ts'
import type { AppImageFixture } from './fixtures/build.ts'
import { useFixtures } from './helpers.ts'

/** The digest appimagetool signs: SHA-256 hex of the file with .sha256_sig and .sig_key zeroed */
function signedDigest (bytes: Uint8Array, f: AppImageFixture): string {
  const copy = new Uint8Array(bytes)
  for (const name of ['.sha256_sig', '.sig_key']) {
    const s = f.sections[name]!
    copy.fill(0, s.offset, s.offset + s.size)
  }
  return createHash('sha256').update(copy).digest('hex')
}

async function sign (bytes: Uint8Array, f: AppImageFixture, privateKey: openpgp.PrivateKey, embeddedKey: string): Promise<Uint8Array> {
  const digest = signedDigest(bytes, f)
  const signature = await openpgp.sign({
    message: await openpgp.createMessage({ binary: new TextEncoder().encode(digest) }),
    signingKeys: privateKey,
    detached: true,
    format: 'armored'
  })
  const out = new Uint8Array(bytes)
  const sig = f.sections['.sha256_sig']!
  const key = f.sections['.sig_key']!
  const sigBytes = new TextEncoder().encode(signature)
  const keyBytes = new TextEncoder().encode(embeddedKey)
  assert.ok(sigBytes.byteLength <= sig.size && keyBytes.byteLength <= key.size, 'signature and key fit their sections')
  out.set(sigBytes, sig.offset)
  out.set(keyBytes, key.offset)
  return out
}

describe('embedded signature', () => {
  const set = useFixtures([{ compressor: 'zstd', blockSize: 131072, fragments: true }])

  it('reports an unsigned AppImage as not signed', async () => {
    const app = await openAppImage(set.fixtures[0]!.path)
    try {
      const status = await app.verifySignature()
      assert.deepEqual(status, { present: false, keyPresent: false, verified: false })
    } finally {
      await app.close()
    }
  })

  it('verifies a signature made by the embedded key, and not after tampering or with another key', async () => {
    const f = set.fixtures[0]!
    const bytes = new Uint8Array(await readFile(f.path))
    const { privateKey, publicKey } = await openpgp.generateKey({ userIDs: [{ name: 'Test Author', email: 'author@example.org' }], format: 'object' })
    const signed = await sign(bytes, f, privateKey, publicKey.armor())

    const app = await openAppImage(signed)
    const status = await app.verifySignature()
    assert.equal(status.present, true)
    assert.equal(status.keyPresent, true)
    assert.equal(status.verified, true, status.reason)
    assert.equal(status.fingerprint, publicKey.getFingerprint())
    assert.equal(status.digest, signedDigest(bytes, f))
    assert.deepEqual(status.signingKeyIds, [privateKey.getKeyID().toHex()])

    const tampered = new Uint8Array(signed)
    tampered[tampered.byteLength - 5000]! ^= 0x01
    const bad = await (await openAppImage(tampered)).verifySignature()
    assert.equal(bad.present, true)
    assert.equal(bad.verified, false)
    assert.match(bad.reason ?? '', /does not verify/)

    const other = await openpgp.generateKey({ userIDs: [{ name: 'Someone Else' }], format: 'object' })
    const wrongKey = await sign(bytes, f, privateKey, other.publicKey.armor())
    const mismatch = await (await openAppImage(wrongKey)).verifySignature()
    assert.equal(mismatch.verified, false)
    assert.equal(mismatch.fingerprint, other.publicKey.getFingerprint())
  })

  it('reports garbage in the signature section without throwing', async () => {
    const f = set.fixtures[0]!
    const bytes = new Uint8Array(await readFile(f.path))
    bytes.set(new TextEncoder().encode('-----BEGIN PGP SIGNATURE-----\n\nnot base64 at all\n-----END PGP SIGNATURE-----\n'), f.sections['.sha256_sig']!.offset)
    bytes.set(new TextEncoder().encode('garbage key'), f.sections['.sig_key']!.offset)
    const status = await (await openAppImage(bytes)).verifySignature()
    assert.equal(status.present, true)
    assert.equal(status.keyPresent, true)
    assert.equal(status.verified, false)
    assert.ok(status.reason !== undefined)
  })
})
