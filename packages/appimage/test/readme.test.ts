import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { runReadmeExample } from '../../../test/helpers/readme-example.ts'
import { useFixtures } from './helpers.ts'

describe('README', () => {
  const set = useFixtures([{ compressor: 'zstd', blockSize: 131072, fragments: true }])

  it('runs the first ts example of the README on a fixture AppImage', async () => {
    const stdout = await runReadmeExample(fileURLToPath(new URL('..', import.meta.url)), [set.fixtures[0]!.path])
    assert.match(stdout, /type 2, x86_64, zstd 131072-byte blocks/)
    assert.match(stdout, /app id org\.example\.MyApp, signed: false, \d+ chunks/)
    assert.match(stdout, /My App 1\.1\.0: AppRun has \d+ bytes, icon image\/png/)
    assert.match(stdout, /\d+ chunks, as planned: true/)
  })
})
