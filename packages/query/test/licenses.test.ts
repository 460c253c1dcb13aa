import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { classifyLicense } from '../src/index.ts'

describe('license classification', () => {
  it('classifies SPDX expressions', () => {
    const cases: Array<[string | undefined, string]> = [
      ['MIT', 'free'], ['GPL-3.0-or-later', 'free'], ['GPL-2.0+', 'free'], ['LGPL-2.1-only', 'free'],
      ['Apache-2.0 WITH LLVM-exception', 'free'], ['MIT OR LicenseRef-proprietary', 'free'],
      ['GPL-3.0+ AND LGPL-3.0+', 'free'], ['(MIT AND LicenseRef-proprietary)', 'non-free'],
      ['LicenseRef-proprietary=https://example.org/eula', 'non-free'], ['NOASSERTION', 'unknown'],
      [undefined, 'unknown'], ['Nmap Public Source License', 'unknown'], ['GPLv3', 'free'], ['MIT AND Foo-1.0', 'unknown']
    ]
    for (const [expression, expected] of cases) assert.equal(classifyLicense(expression), expected, String(expression))
  })

  it('never throws and never calls an unknown identifier free', () => {
    fc.assert(fc.property(fc.string({ maxLength: 600 }), (text) => {
      assert.ok(['free', 'non-free', 'unknown'].includes(classifyLicense(text)))
      assert.notEqual(classifyLicense(`Unknown-${text.replace(/[\s()]/g, '')}`), 'free')
    }))
  })
})
