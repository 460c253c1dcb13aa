import { logger } from '@libp2p/logger'
import { blockMatches } from './dag.ts'
import { BadRangeAnswerError, GatewayRequestError, GatewayVerificationError, RangesNotSupportedError } from './errors.ts'
import { createLeafAssembler, leafKey } from './leaf-assembler.ts'
import { requestRanges } from './range-client.ts'
import { recordFailure } from './fetch.ts'
import type { ByteRange } from './byte-ranges.ts'
import type { FetchState } from './fetch.ts'
import type { LeafGroup, Place, WantedPiece } from './leaf-assembler.ts'

const log = logger('hubless:net:ranged-fetch')

/** Ranges per request: a hubless mirror answers up to 100, beyond which it sends the whole file */
export const MAX_RANGES_PER_REQUEST = 64
/** Bytes per request: several requests share the work, and a broken one costs little */
export const MAX_REQUEST_BYTES = 4 * 1024 * 1024
/** Requests to one gateway at once */
export const RANGE_CONCURRENCY = 4

export interface RangeBatch {
  ranges: ByteRange[]
  pieces: WantedPiece[]
  bytes: number
}

/**
 * The requests for `groups`: each leaf asked for once (at its first offset), adjacent leaves in
 * one range, up to `maxRanges` ranges and about `maxBytes` bytes a request (a leaf is never split).
 */
export function planRangeBatches (groups: Iterable<LeafGroup>, maxRanges = MAX_RANGES_PER_REQUEST, maxBytes = MAX_REQUEST_BYTES): RangeBatch[] {
  const pieces = [...groups].map(group => ({ offset: group.offsets[0]!, group })).sort((a, b) => a.offset - b.offset)
  const batches: RangeBatch[] = []
  let batch: RangeBatch | undefined
  for (const piece of pieces) {
    const end = piece.offset + piece.group.size - 1
    const last = batch?.ranges.at(-1)
    if (batch != null && last != null && last.end + 1 === piece.offset && batch.bytes < maxBytes) {
      last.end = end
    } else {
      if (batch == null || batch.ranges.length >= maxRanges || batch.bytes >= maxBytes) {
        batch = { ranges: [], pieces: [], bytes: 0 }
        batches.push(batch)
      }
      batch.ranges.push({ start: piece.offset, end })
    }
    batch.pieces.push(piece)
    batch.bytes += piece.group.size
  }
  return batches
}

export interface RangedFetchInit {
  state: FetchState
  gateway: string
  /** the file's size, from its root */
  size: number
  /** leaves still wanted, by key; each one that arrives verified is removed */
  wanted: Map<string, LeafGroup>
  /** writes a verified leaf where it belongs, and counts it */
  place: Place
}

/**
 * Gets the wanted leaves from one gateway by byte ranges of the file (few requests, many leaves
 * each), verifying each leaf against its CID as it completes. A gateway that sends a leaf that
 * does not hash to its CID is distrusted (`GatewayVerificationError`), as `fetchDag` does; any
 * other failure (no ranges, a malformed or oversized answer, a broken connection) only ends the
 * ranges from this gateway. Failures are recorded in the state; what is still wanted stays in
 * `wanted` for the next source.
 */
export async function fetchRanges (init: RangedFetchInit): Promise<void> {
  const { state, gateway, wanted } = init
  // a server may answer only the first of several ranges (RFC 9110 lets it): then one range a request
  for (const maxRanges of [MAX_RANGES_PER_REQUEST, 1]) {
    const batches = planRangeBatches(wanted.values(), maxRanges)
    if (batches.length === 0) return
    const failure = await runBatches(init, batches)
    if (failure == null) {
      log('%s: %d requests of up to %d ranges, %d leaves still wanted', gateway, batches.length, maxRanges, wanted.size)
      continue
    }
    if (failure instanceof GatewayVerificationError) state.distrusted.add(gateway)
    else if (!(failure instanceof RangesNotSupportedError || failure instanceof BadRangeAnswerError || failure instanceof GatewayRequestError)) throw failure
    recordFailure(state, state.result.cid, gateway, failure)
    log('%s: ranges stopped (%s); %d leaves still wanted', gateway, failure.name, wanted.size)
    return
  }
}

/** Runs the requests, `RANGE_CONCURRENCY` at a time; the first failure stops the others and is returned */
async function runBatches (init: RangedFetchInit, batches: RangeBatch[]): Promise<Error | undefined> {
  const stop = new AbortController()
  const outer = init.state.options.signal
  const signal = outer == null ? stop.signal : AbortSignal.any([outer, stop.signal])
  let failure: Error | undefined
  let next = 0
  const worker = async (): Promise<void> => {
    while (failure == null && next < batches.length) {
      const batch = batches[next++]!
      try {
        await fetchBatch(init, batch, signal)
      } catch (err) {
        outer?.throwIfAborted()
        failure ??= err as Error
        stop.abort()
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(RANGE_CONCURRENCY, batches.length) }, worker))
  return failure
}

async function fetchBatch (init: RangedFetchInit, batch: RangeBatch, signal: AbortSignal): Promise<void> {
  const { state, gateway } = init
  const assembler = createLeafAssembler(batch.pieces)
  const placing: Array<Promise<void>> = []
  try {
    for await (const part of requestRanges(gateway, state.result.cid, batch.ranges, { signal, size: init.size, idleTimeout: state.gatewayTimeout })) {
      for (const { group, bytes } of assembler.push(part)) {
        if (!(await blockMatches(state.helia.getHasher, group.cid, bytes))) {
          throw new GatewayVerificationError(`Gateway ${gateway} returned bytes at offset ${group.offsets[0]} of ${state.result.cid} that do not hash to the leaf ${group.cid}; not asking it again`, gateway)
        }
        init.wanted.delete(leafKey(group.cid))
        // writing runs while the next bytes arrive; a failure is thrown below, never left unhandled
        const placed = init.place(group, bytes, gateway)
        placed.catch(() => {})
        placing.push(placed)
      }
    }
  } finally {
    await Promise.all(placing)
  }
}
