import assert from 'node:assert/strict'
import { it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { runReadmeExample } from '../../../test/helpers/readme-example.ts'

it('runs the first ts example of the README', async () => {
  const stdout = await runReadmeExample(fileURLToPath(new URL('..', import.meta.url)))
  assert.match(stdout, /^no key: no signed heads$/m)
  assert.match(stdout, /^1 app: Example App 1\.0\.0$/m, 'the published release, found through the mirror\'s API')
  assert.match(stdout, /^ready: 200$/m)
})
