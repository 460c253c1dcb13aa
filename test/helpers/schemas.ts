import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Ajv2020 } from 'ajv/dist/2020.js'

const DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'packages', 'cli', 'schemas')

const ajv = new Ajv2020({ allErrors: true })
for (const file of readdirSync(DIR).filter(f => f.endsWith('.json'))) {
  ajv.addSchema(JSON.parse(readFileSync(join(DIR, file), 'utf8')) as object, file)
}

/** Asserts that `value` is valid under packages/cli/schemas/NAME.json, naming every mismatch */
export function assertSchema (name: 'search' | 'app' | 'status' | 'error', value: unknown, what: string): void {
  const validate = ajv.getSchema(`${name}.json`)
  assert.ok(validate != null, `no schema ${name}.json`)
  const valid = validate(value)
  assert.ok(valid, `${what} does not match schemas/${name}.json: ${ajv.errorsText(validate.errors)}`)
}
