import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before } from 'node:test'
import { type AppImageFixture, buildFixtures, MATRIX, type RuntimeInit, type SquashfsInit, type TreeInit } from './fixtures/build.ts'

export interface FixtureSet {
  dir: string
  tree: string
  fixtures: AppImageFixture[]
}

/** Builds fixtures into a temp dir before the file's tests and removes them after */
export function useFixtures (matrix: SquashfsInit[] = MATRIX, tree?: TreeInit, runtime?: RuntimeInit): FixtureSet {
  const set: FixtureSet = { dir: '', tree: '', fixtures: [] }
  before(async () => {
    set.dir = await mkdtemp(join(tmpdir(), 'hubless-appimage-'))
    const built = await buildFixtures(set.dir, matrix, tree, runtime)
    set.tree = built.tree
    set.fixtures = built.fixtures
  })
  after(async () => {
    if (set.dir !== '') await rm(set.dir, { recursive: true, force: true })
  })
  return set
}

/** Awaits a promise that must reject; returns the error for name checks */
export async function rejection (p: Promise<unknown>): Promise<Error> {
  try {
    await p
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a rejection, the call succeeded')
}

/** `bytes` as a stream of pieces of the given sizes, repeated (pieces of 64 KiB when none are given) */
export async function * ofBytes (bytes: Uint8Array, pieces: number[]): AsyncGenerator<Uint8Array> {
  let at = 0
  let i = 0
  while (at < bytes.byteLength) {
    const n = Math.max(1, pieces[i++ % pieces.length] ?? 65536)
    yield bytes.subarray(at, at + n)
    at += n
  }
}
