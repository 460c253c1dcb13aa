import assert from 'node:assert/strict'
import { it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { runReadmeExample } from '../../../test/helpers/readme-example.ts'

it('runs the first ts example of the README', async () => {
  const stdout = await runReadmeExample(fileURLToPath(new URL('..', import.meta.url)))
  assert.match(stdout, /^Krita 5\.2\.0 trusted via root did:key:z6Mk\w+ -> did:key:z6Mk\w+$/m, 'the trusted author\'s release, with its path')
  assert.match(stdout, /^conflicting 99\.0$/m, 'the squatter is shown as conflicting, its inflated version not served')
  assert.match(stdout, /^beta reader gets 5\.3\.0-beta\.1$/m)
  assert.match(stdout, /^reloaded: org\.kde\.krita$/m)
})
