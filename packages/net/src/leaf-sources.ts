import { ContentNotFoundError } from './errors.ts'
import { FETCH_LOOKAHEAD, fromGateways, fromPeers, PEER_LOOKAHEAD } from './fetch.ts'
import { toBytes } from './iterables.ts'
import { fetchRanges } from './ranged-fetch.ts'
import type { FetchState } from './fetch.ts'
import type { LeafGroup, Place } from './leaf-assembler.ts'
import type { PartFile } from './part-file.ts'

/** `has` asked of the blockstore at once */
const STORE_CHECKS = 32

export interface LeafSourcesInit {
  state: FetchState
  part: PartFile
  /** the file's size */
  size: number
  place: Place
}

/** Runs `task` over `items`, `concurrency` at a time; the first failure stops the rest and is thrown */
export async function pool<T> (items: T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  let failed = false
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      try {
        await task(items[next++]!)
      } catch (err) {
        failed = true
        throw err
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker))
}

/**
 * Gets the leaves of `pending` (each removed once placed), trying in turn: the blockstore, the
 * part file left by an interrupted fetch, connected peers (bitswap, block by block), each
 * gateway by byte ranges of the file, then the gateways block by block (`?format=raw`, for
 * gateways that serve no ranges, and for what a failed range answer left out). Throws
 * `ContentNotFoundError` for a leaf no source delivered.
 */
export async function fetchLeaves (init: LeafSourcesInit, pending: Map<string, LeafGroup>): Promise<void> {
  const { state, part, place } = init
  const signal = state.options.signal
  const { blockstore } = state.helia
  const take = async (key: string, group: LeafGroup, bytes: Uint8Array, source: string): Promise<void> => {
    pending.delete(key)
    await place(group, bytes, source)
  }
  if (state.store != null) {
    const { store } = state
    const entries = [...pending]
    const held = await store.hasMany(entries.map(([, group]) => group.cid), { signal })
    await pool(entries.filter((_, i) => held[i]), STORE_CHECKS, async ([key, group]) => {
      await take(key, group, await store.getSized(group.cid, group.size, { signal }), 'local')
    })
  } else {
    await pool([...pending], STORE_CHECKS, async ([key, group]) => {
      if (!(await blockstore.has(group.cid, { signal }))) return
      await take(key, group, await toBytes(blockstore.get(group.cid, { offline: true, signal })), 'local')
    })
  }
  if (part.existed) {
    await pool([...pending], FETCH_LOOKAHEAD, async ([key, group]) => {
      const bytes = await part.holds(group, state.helia.getHasher)
      if (bytes != null) await take(key, group, bytes, 'local')
    })
  }
  if (pending.size > 0 && !state.peersGaveUp && state.helia.libp2p.getConnections().length > 0) {
    await pool([...pending], PEER_LOOKAHEAD, async ([key, group]) => {
      const bytes = await fromPeers(state, group.cid)
      if (bytes != null) await take(key, group, bytes, 'peers')
    })
  }
  for (const gateway of state.gateways) {
    if (pending.size === 0) break
    if (state.distrusted.has(gateway)) continue
    await fetchRanges({ state, gateway, size: init.size, wanted: pending, place })
  }
  await pool([...pending], FETCH_LOOKAHEAD, async ([key, group]) => {
    const got = await fromGateways(state, group.cid)
    if (got == null) {
      throw new ContentNotFoundError(`No source delivered ${group.cid} of ${state.result.cid}: no peer within ${state.providerTimeout} ms and ${state.gateways.length} gateway(s) failed (see .errors)`, [...state.result.errors])
    }
    await take(key, group, got.bytes, got.gateway)
  })
}
