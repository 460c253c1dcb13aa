import assert from 'node:assert/strict'
import { it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { runReadmeExample } from '../../../test/helpers/readme-example.ts'

it('runs the first ts example of the README', async () => {
  const stdout = await runReadmeExample(fileURLToPath(new URL('..', import.meta.url)))
  assert.match(stdout, /hello hubless/)
  assert.match(stdout, /"http:\/\/127\.0\.0\.1:\d+":1/, 'the third node fetched through the gateway')
})
