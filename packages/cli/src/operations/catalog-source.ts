import { createCatalog, createHttpSource } from '@hubless/query'
import type { Services } from '../services.ts'
import type { Catalog } from '@hubless/query'

/**
 * The catalog a catalog command reads: the registry's (peer-to-peer), or, with `mirror`, one read
 * over HTTP(S) from that mirror's record feed, every record verified here, trust decided by this
 * data dir's roots. For where peer-to-peer is blocked. `done` stops what was opened for the call.
 */
export async function catalogFor (services: Services, mirror: string | undefined, signal: AbortSignal): Promise<{ catalog: Catalog, done: () => Promise<void> }> {
  if (mirror == null) return { catalog: await services.catalog({ signal }), done: async () => {} }
  // a command answers once the whole feed is read (a version, a release's history): the live set
  // first would only add its download
  const source = createHttpSource({ url: mirror, pollInterval: 0, live: false })
  const catalog = await createCatalog({ source }, { roots: await services.trustRoots.list() }, { signal })
  return {
    catalog,
    done: async () => {
      source.stop()
      await catalog.stop()
    }
  }
}
