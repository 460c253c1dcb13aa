import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { createKeyStore, signRecord, buildRevokeKeyRecord, decodeSignedRecord, encodeSignedRecord } from '../src/index.ts'

function named (name: string) {
  return (err: Error): boolean => {
    assert.equal(err.name, name, `expected ${name}, got ${err.name}: ${err.message}`)
    return true
  }
}

describe('publisher key store', () => {
  let dir: string
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'hubless-keys-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  it('creates a key file with mode 0600 and loads the same key', async () => {
    const store = createKeyStore({ directory: join(dir, 'data') })
    assert.equal(await store.exists(), false)
    await assert.rejects(store.load(), named('KeyNotFoundError'))
    const key = await store.create()
    assert.equal((await stat(store.path)).mode & 0o777, 0o600)
    const loaded = await store.load()
    assert.equal(loaded.did, key.did)
    assert.deepEqual(loaded.secretKey, key.secretKey)
    const signed = await signRecord(buildRevokeKeyRecord(0, 'test', { publisher: loaded.did }), loaded)
    assert.equal((await decodeSignedRecord(encodeSignedRecord(signed))).record.publisher, key.did)
    await assert.rejects(store.create(), named('KeyExistsError'))
    const other = await store.create({ overwrite: true })
    assert.notEqual(other.did, key.did)
  })

  it('encrypts at rest with a passphrase', async () => {
    const store = createKeyStore({ directory: dir })
    const key = await store.create({ passphrase: 'correct horse' })
    const text = await readFile(store.path, 'utf8')
    assert.ok(!text.includes('secretKey'), 'no plain secret in a sealed file')
    assert.equal(await store.isEncrypted(), true)
    await assert.rejects(store.load(), named('WrongPassphraseError'))
    await assert.rejects(store.load({ passphrase: 'wrong' }), named('WrongPassphraseError'))
    assert.equal((await store.load({ passphrase: 'correct horse' })).did, key.did)
  })

  it('detects a relabelled or damaged file', async () => {
    const store = createKeyStore({ directory: dir })
    await store.create({ passphrase: 'pw' })
    const other = createKeyStore({ directory: join(dir, 'other') })
    const otherKey = await other.create()
    const sealed = JSON.parse(await readFile(store.path, 'utf8'))
    await writeFile(store.path, JSON.stringify({ ...sealed, did: otherKey.did }))
    await assert.rejects(store.load({ passphrase: 'pw' }), named('WrongPassphraseError'))
    const plain = JSON.parse(await readFile(other.path, 'utf8'))
    await writeFile(other.path, JSON.stringify({ ...plain, did: sealed.did }))
    await assert.rejects(other.load(), named('KeyFileError'))
    await writeFile(other.path, 'not json')
    await assert.rejects(other.load(), named('KeyFileError'))
  })

  it('exports and imports, re-sealing as asked', async () => {
    const a = createKeyStore({ directory: join(dir, 'a') })
    const b = createKeyStore({ directory: join(dir, 'b') })
    const key = await a.create({ passphrase: 'one' })
    const exported = await a.export({ passphrase: 'one', exportPassphrase: 'two' })
    await assert.rejects(b.import(exported, { importPassphrase: 'one' }), named('WrongPassphraseError'))
    const imported = await b.import(exported, { importPassphrase: 'two' })
    assert.equal(imported.did, key.did)
    assert.equal(await b.isEncrypted(), false)
    assert.equal((await stat(b.path)).mode & 0o777, 0o600)
    await assert.rejects(b.import(exported, { importPassphrase: 'two' }), named('KeyExistsError'))
  })
})
