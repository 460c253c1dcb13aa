import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { compareReleases, compareVersions, parseVersion } from '../src/index.ts'

const sign = (n: number): number => n < 0 ? -1 : n > 0 ? 1 : 0
const neg = (n: number): number => n === 0 ? 0 : -n

describe('version ordering', () => {
  it('orders the versions AppImages really use', () => {
    // each list is ascending
    const ladders = [
      ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.0.0-1', '1.0.1'],
      ['0.9', '0.10', '1.2.3', '1.2.3.4', '1.10'],
      ['v1.2', '1.3', 'V1.4'],
      ['2.0.0-dev.24.189', '2.0.0-alpha', '2.0.0-rc6', '2.0.0'],
      ['1.2.3', '1.2.3-45-gabcdef1', '1.2.3-46-g1234567', '1.2.4'],
      ['2017.11.28', '20171129', '2023.05.01'],
      ['2023.05.01', '2023.5.2', '2024.3.0'],
      ['0.8.6-RC', '0.8.6', '0.8.6.glibc2.17'],
      ['99999999999999999998', '99999999999999999999', '100000000000000000000'],
      ['9.9.9', 'continuous']
    ]
    for (const ladder of ladders) {
      for (let i = 0; i + 1 < ladder.length; i++) {
        assert.equal(sign(compareVersions(ladder[i]!, ladder[i + 1]!)), -1, `${ladder[i]} should sort before ${ladder[i + 1]}`)
        assert.equal(sign(compareVersions(ladder[i + 1]!, ladder[i]!)), 1, `${ladder[i + 1]} should sort after ${ladder[i]}`)
      }
    }
  })

  it('treats equal spellings as the same version', () => {
    for (const [a, b] of [['1.0', '1.0.0'], ['v2.9.3', '2.9.3'], ['1.0.0+build.5', '1.0.0'], ['1.0-RC1', '1.0-rc1'], ['continuous', 'latest'], ['47bbec1', 'HEAD-4d75068']]) {
      assert.equal(compareVersions(a!, b!), 0, `${a} and ${b} should be the same version`)
    }
  })

  it('classifies rolling builds and commit hashes', () => {
    assert.equal(parseVersion('continuous').kind, 'rolling')
    assert.equal(parseVersion('d5f6110').kind, 'rolling')
    assert.equal(parseVersion('20171129').kind, 'numbered')
    assert.equal(parseVersion('.glibc2.14').kind, 'rolling')
  })

  const version = fc.oneof(
    fc.stringMatching(/^v?\d{1,3}(\.\d{1,4}){0,3}(-(alpha|beta|rc|dev)(\.\d{1,2})?|-\d{1,2}-g[0-9a-f]{7}|\.glibc2\.\d{2})?$/),
    fc.constantFrom('continuous', 'latest', '47bbec1', '20171129', '2023.05.01', '1.0', '1.0.0', 'HEAD-4d75068'),
    fc.string({ maxLength: 12 })
  )

  it('ranks an unknown version below every real one', () => {
    for (const placeholder of ['unknown', 'Unknown', 'n/a', 'NA', 'none', '?', '-', '']) {
      assert.equal(parseVersion(placeholder).kind, 'unknown', placeholder)
      assert.ok(compareVersions(placeholder, '0.0.1') < 0, `${placeholder} < 0.0.1`)
      assert.ok(compareVersions(placeholder, 'continuous') < 0, `${placeholder} < continuous`)
    }
    assert.equal(compareVersions('unknown', 'n/a'), 0)
    assert.equal(parseVersion('unknown-2').kind, 'rolling', 'only a bare placeholder is unknown')
  })

  it('is a total preorder on versions (antisymmetric, transitive)', () => {
    fc.assert(fc.property(version, version, version, (a, b, c) => {
      assert.equal(sign(compareVersions(a, b)), neg(sign(compareVersions(b, a))), `antisymmetry broken for ${a} / ${b}`)
      assert.equal(compareVersions(a, a), 0)
      if (compareVersions(a, b) <= 0 && compareVersions(b, c) <= 0) {
        assert.ok(compareVersions(a, c) <= 0, `transitivity broken: ${a} <= ${b} <= ${c}`)
      }
    }), { numRuns: 3000 })
  })

  const release = fc.record({
    id: fc.stringMatching(/^b[a-z2-7]{6}$/),
    version,
    time: fc.integer({ min: 0, max: 5 }),
    chainDepth: fc.integer({ min: 0, max: 3 })
  })

  it('is a total order on releases: only the same release compares equal', () => {
    fc.assert(fc.property(release, release, release, (a, b, c) => {
      assert.equal(sign(compareReleases(a, b)), neg(sign(compareReleases(b, a))))
      if (compareReleases(a, b) === 0) assert.equal(a.id, b.id, 'distinct releases must not tie')
      if (compareReleases(a, b) < 0 && compareReleases(b, c) < 0) assert.ok(compareReleases(a, c) < 0, 'transitivity broken')
    }), { numRuns: 3000 })
  })

  it('breaks version ties by time, then chain position', () => {
    assert.ok(compareReleases({ id: 'bz', version: '1.0', time: 1, chainDepth: 5 }, { id: 'ba', version: '1.0', time: 2, chainDepth: 0 }) < 0)
    assert.ok(compareReleases({ id: 'bz', version: '1.0', time: 1, chainDepth: 0 }, { id: 'ba', version: '1.0', time: 1, chainDepth: 1 }) < 0)
  })
})
