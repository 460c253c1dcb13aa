import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { after, it } from 'node:test'
import { build } from 'esbuild'
import { encodeSignedRecord, recordToJSON } from '../src/records/index.ts'
import { signedRelease } from './fixtures.ts'

const entry = fileURLToPath(new URL('../src/records/index.ts', import.meta.url))
let dir: string | undefined
after(async () => { if (dir != null) await rm(dir, { recursive: true, force: true }) })

it('@hubless/registry/records bundles for browsers with no Node built-ins, and the bundle verifies records', async () => {
  dir = await mkdtemp(join(tmpdir(), 'hubless-records-bundle-'))
  const outfile = join(dir, 'records.js')
  const result = await build({ entryPoints: [entry], bundle: true, platform: 'browser', format: 'esm', outfile, logLevel: 'silent' })
  assert.deepEqual(result.errors, [])
  const code = await readFile(outfile, 'utf8')
  assert.doesNotMatch(code, /from ["']node:|require\(["']node:/, 'no node: imports in the browser bundle')
  // the bundle is plain ESM using WebCrypto, which Node has too: run it
  const bundled = await import(pathToFileURL(outfile).href) as typeof import('../src/records/index.ts')
  const signed = await signedRelease()
  assert.equal((await bundled.decodeSignedRecord(encodeSignedRecord(signed))).id, signed.id)
  assert.equal((await bundled.recordFromJSON(JSON.stringify(recordToJSON(signed)))).id, signed.id)
  const bad = Uint8Array.from(encodeSignedRecord(signed))
  bad[bad.length - 1]! ^= 1
  await assert.rejects(bundled.decodeSignedRecord(bad), (err: Error) => err.name === 'InvalidSignatureError')
})
