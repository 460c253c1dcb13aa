import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runCli } from '../../../test/helpers/cli.ts'

const CATALOG = fileURLToPath(new URL('../../../data/appimagehub-apps.json', import.meta.url))

/** A data dir made with `init`, holding Krita and Inkscape imported from AppImageHub's catalog */
export async function dataDirWithTwoApps (dir: string): Promise<string> {
  const dataDir = join(dir, 'data')
  const items = JSON.parse(await readFile(CATALOG, 'utf8')) as Array<{ name?: string }>
  const file = join(dir, 'catalog.json')
  await writeFile(file, JSON.stringify(items.filter(i => i.name === 'Krita' || i.name === 'Inkscape')))
  for (const args of [['init'], ['import', 'appimagehub', file]]) {
    const result = await runCli(['--data-dir', dataDir, ...args], { timeout: 90_000 })
    if (result.code !== 0) throw new Error(`hubless ${args.join(' ')} exited ${result.code}: ${result.stderr}`)
  }
  return dataDir
}
