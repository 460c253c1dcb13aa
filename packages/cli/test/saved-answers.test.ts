import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { dataDirWithTwoApps } from './two-apps.ts'
import { runCli, tempDir } from '../../../test/helpers/cli.ts'


/** search, show and status with no daemon answer from the saved index, and it never lags the registry */
describe('answers from the saved index', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let dataDir: string
  // biome-ignore lint/suspicious/noExplicitAny: the test reads the commands' documented JSON loosely
  const cli = async (...args: string[]): Promise<{ code: number | null, stdout: string, stderr: string, json: () => any }> => {
    const result = await runCli(['--data-dir', dataDir, '--json', ...args], { timeout: 90_000 })
    return { ...result, json: () => JSON.parse(result.stdout) }
  }

  before(async () => {
    dir = await tempDir()
    dataDir = await dataDirWithTwoApps(dir.path)
  })
  after(async () => { await dir.remove() })

  it('status says it answers from what the node saved, with the records the import appended', async () => {
    const status = (await cli('status')).json()
    assert.ok(typeof status.savedAt === 'string', `status answered from the saved state: ${JSON.stringify(status)}`)
    assert.equal(status.registry.records, 2)
    assert.equal(status.records, undefined, 'records is given once, under registry')
  })

  it('a search reflects the trust roots as they are now', async () => {
    const before = (await cli('search', 'krita')).json()
    assert.equal(before.results[0].trust.status, 'imported')
    const importer = before.results[0].publisher as string
    assert.equal((await cli('trust', 'add', importer)).code, 0)
    const after = (await cli('search', 'krita')).json()
    assert.equal(after.results[0].trust.status, 'trusted', 'a new root counts at once')
    assert.equal((await cli('trust', 'remove', importer)).code, 0)
    assert.equal((await cli('search', 'krita')).json().results[0].trust.status, 'imported')
  })

  it('a registry left open (a killed node) sends the next command through the registry, which saves again', async () => {
    await writeFile(join(dataDir, 'registry-state.json'), JSON.stringify({ clean: false, pid: 1 }))
    const status = (await cli('status')).json()
    assert.equal(status.savedAt, undefined, 'answered by a node opened for it')
    assert.equal(status.registry.records, 2)
    assert.ok(typeof (await cli('status')).json().savedAt === 'string', 'the node saved a clean state on stop')
  })
})
