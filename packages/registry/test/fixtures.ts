import { buildReleaseRecord, createPublisherKey, signRecord } from '../src/records/index.ts'
import type { PublisherKey, ReleaseRecord, SignedRecord } from '../src/records/index.ts'

export const CONTENT_CID = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'
export const SHA = 'a'.repeat(64)

export function releaseRecord (key: PublisherKey, overrides: Partial<ReleaseRecord> = {}, n = 0): ReleaseRecord {
  return {
    ...buildReleaseRecord({
      appId: 'org.example.App',
      version: `1.0.${n}`,
      channel: 'release',
      arch: 'x86_64',
      content: { cid: CONTENT_CID, sha256: SHA, size: 1234, urls: ['https://example.org/App.AppImage'] },
      app: { name: 'Example', summary: 'An example app', categories: ['Utility'] }
    }, { publisher: key.did, time: 1_700_000_000_000 + n }),
    ...overrides
  }
}

export async function signedRelease (key: PublisherKey = createPublisherKey(), n = 0): Promise<SignedRecord<ReleaseRecord>> {
  return signRecord(releaseRecord(key, {}, n), key)
}

/** The name of the error `p` rejects with, or 'no error' */
export async function errorName (p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (err) {
    return (err as Error).name
  }
  return 'no error'
}
