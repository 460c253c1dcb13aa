import { logger } from '@libp2p/logger'
import * as raw from 'multiformats/codecs/raw'
import { CustomProgressEvent } from 'progress-events'
import { drain, toBytes } from './iterables.ts'
import { blockMatches, walkDag } from './dag.ts'
import { BlockVerificationError, ContentNotFoundError, ContentTooLargeError, GatewayRequestError, GatewayVerificationError } from './errors.ts'
import { checkGatewayUrl, requestBlock } from './gateway-client.ts'
import type { TieredBlockstore } from './tiered-blockstore.ts'
import type { FetchOptions, FetchResult, NodeHelia } from './index.ts'
import type { CID } from 'multiformats/cid'

const log = logger('hubless:net:fetch')

const NO_BYTES = new Uint8Array(0)

export interface FetchDefaults {
  gateways: string[]
  providerTimeout: number
  /** the node's own store, under Helia's: whether leaves are held is asked of it for many at once */
  store?: Pick<TieredBlockstore, 'hasMany' | 'getSized'>
}

const DEFAULT_GATEWAY_TIMEOUT = 30_000
/** Blocks fetched ahead of the walk: a round trip per block, one after another, made a delta update of small chunks slow */
export const FETCH_LOOKAHEAD = 8
/**
 * Blocks asked of peers at once (bitswap): a mirror on loopback answered 8 at a time in ~130 ms,
 * so pinning a 57 MB AppImage of 4,360 blocks took 71 s at 8, 28 s at 32, 11 s at 64 and 10 s
 * at 128, where the sender (which reads wanted blocks one after another) is the limit. Gateways
 * are still asked `FETCH_LOOKAHEAD` at a time.
 */
export const PEER_LOOKAHEAD = 64

/** What one fetch (of a DAG or a file) knows of its sources, and what it has counted so far */
export interface FetchState {
  helia: NodeHelia
  /** the caller's options, with a signal that also fires once this fetch failed */
  options: FetchOptions
  /** aborts what is still loading or waiting once the fetch failed: nothing more is asked of sources */
  stop: AbortController
  gateways: string[]
  /** Gateways caught serving wrong bytes are not asked again during this fetch. */
  distrusted: Set<string>
  /** Set once peers missed a deadline: waiting again for every block would multiply the delay. */
  peersGaveUp: boolean
  providerTimeout: number
  gatewayTimeout: number
  store?: FetchDefaults['store']
  /** requests to gateways running, and those waiting for a turn (at most `limit` run) */
  gatewayTurns: { limit: number, running: number, waiting: Array<() => void> }
  result: FetchResult
}

function isAbort (err: unknown): boolean {
  return (err as Error)?.name === 'AbortError' || (err as Error)?.name === 'TimeoutError'
}

export function recordFailure (state: FetchState, cid: CID, source: string, error: Error): void {
  log('%s failed for %c: %s', source, cid, error.message)
  state.result.errors.push(error)
  state.options.onProgress?.(new CustomProgressEvent('hubless:fetch:source-failed', { cid, source, error }))
}

export async function fromPeers (state: FetchState, cid: CID): Promise<Uint8Array | undefined> {
  if (state.peersGaveUp) return undefined
  if (state.helia.libp2p.getConnections().length === 0) {
    state.peersGaveUp = true
    recordFailure(state, cid, 'peers', new ContentNotFoundError(`No peer connected to ask for ${cid}`))
    return undefined
  }
  const deadline = AbortSignal.timeout(state.providerTimeout)
  const signal = state.options.signal == null ? deadline : AbortSignal.any([state.options.signal, deadline])
  try {
    const bytes = await toBytes(state.helia.blockstore.get(cid, { signal }))
    if (!(await blockMatches(state.helia.getHasher, cid, bytes))) {
      throw new BlockVerificationError(`Peers delivered bytes that do not hash to ${cid}`)
    }
    return bytes
  } catch (err) {
    state.options.signal?.throwIfAborted()
    state.peersGaveUp = true
    // Helia reports the deadline as LoadBlockFailedError; the signal says what really happened
    const error = deadline.aborted || isAbort(err)
      ? new ContentNotFoundError(`No peer delivered ${cid} within ${state.providerTimeout} ms`)
      : err as Error
    recordFailure(state, cid, 'peers', error)
    return undefined
  }
}

/** A turn to ask gateways: a walk that asks peers many blocks at once asks a gateway a few */
async function gatewayTurn (state: FetchState): Promise<() => void> {
  const turns = state.gatewayTurns
  if (turns.running >= turns.limit) await new Promise<void>(resolve => { turns.waiting.push(resolve) })
  else turns.running++
  return () => {
    const next = turns.waiting.shift()
    if (next != null) next()
    else turns.running--
  }
}

/**
 * `counted` is called with what came before the turn passes on: a fetch that counts its bytes
 * against a cap stops asking once past it, however many blocks wait for a turn
 */
export async function fromGateways (state: FetchState, cid: CID, counted?: (got: { bytes: Uint8Array, gateway: string }) => void): Promise<{ bytes: Uint8Array, gateway: string } | undefined> {
  const done = await gatewayTurn(state)
  try {
    state.options.signal?.throwIfAborted()
    const got = await askGateways(state, cid)
    if (got != null) counted?.(got)
    return got
  } finally {
    done()
  }
}

async function askGateways (state: FetchState, cid: CID): Promise<{ bytes: Uint8Array, gateway: string } | undefined> {
  for (const gateway of state.gateways) {
    if (state.distrusted.has(gateway)) continue
    try {
      const bytes = await requestBlock(gateway, cid, { signal: state.options.signal, timeout: state.gatewayTimeout })
      if (!(await blockMatches(state.helia.getHasher, cid, bytes))) {
        state.distrusted.add(gateway)
        throw new GatewayVerificationError(`Gateway ${gateway} returned bytes for ${cid} that do not hash to it; not asking it again`, gateway)
      }
      return { bytes, gateway }
    } catch (err) {
      state.options.signal?.throwIfAborted()
      if (!(err instanceof GatewayVerificationError) && !(err instanceof GatewayRequestError)) throw err
      recordFailure(state, cid, gateway, err)
    }
  }
  return undefined
}

/** A block from the local store, else peers, else gateways one block per request; stores what came over HTTP */
export async function fetchBlock (state: FetchState, cid: CID): Promise<Uint8Array> {
  const { helia, options, result } = state
  if (await helia.blockstore.has(cid, { signal: options.signal })) {
    const bytes = await toBytes(helia.blockstore.get(cid, { offline: true, signal: options.signal }))
    count(state, cid, bytes, 'local')
    return bytes
  }
  const fromNetwork = await fromPeers(state, cid)
  if (fromNetwork != null) {
    count(state, cid, fromNetwork, 'peers')
    return fromNetwork
  }
  const fromHttp = await fromGateways(state, cid, got => { count(state, cid, got.bytes, got.gateway) })
  if (fromHttp == null) {
    throw new ContentNotFoundError(`No source delivered ${cid}: no peer within ${state.providerTimeout} ms and ${state.gateways.length} gateway(s) failed (see .errors)`, [...result.errors])
  }
  await helia.blockstore.put(cid, fromHttp.bytes, { signal: options.signal })
  return fromHttp.bytes
}

export function count (state: FetchState, cid: CID, bytes: Uint8Array, source: string): void {
  state.result.blocks++
  state.result.bytes += bytes.byteLength
  const { maxBytes } = state.options
  if (maxBytes != null && state.result.bytes > maxBytes) {
    const error = new ContentTooLargeError(`The DAG under ${state.result.cid} adds up to more than the limit of ${maxBytes} bytes (${state.result.blocks} blocks so far); fetched no further`, maxBytes)
    // the blocks loading ahead of the walk, and those waiting for a gateway, are asked no further
    state.stop.abort(error)
    throw error
  }
  state.result.sources[source] = (state.result.sources[source] ?? 0) + 1
  state.options.onProgress?.(new CustomProgressEvent('hubless:fetch:block', { cid, bytes: bytes.byteLength, source }))
}

/** Walks the DAG depth first, getting every block from the local store, peers, or gateways, verified. */
export async function fetchDag (helia: NodeHelia, root: CID, defaults: FetchDefaults, options: FetchOptions = {}): Promise<FetchResult> {
  const state = createFetchState(helia, root, defaults, options)
  // fetchBlock stores, counts and reports each block as the walk loads it; the walk needs the
  // bytes of nodes only, so the leaves loaded ahead of it are not held in memory
  try {
    await drain(walkDag(helia.getCodec, root, async cid => {
      const bytes = await fetchBlock(state, cid)
      return cid.code === raw.code ? NO_BYTES : bytes
    }, { signal: state.options.signal, lookahead: PEER_LOOKAHEAD }))
  } catch (err) {
    state.stop.abort(err)
    throw err
  }
  if (options.pin === true && !(await helia.pins.isPinned(root, { signal: options.signal }))) {
    await drain(helia.pins.add(root, { signal: options.signal }))
  }
  log('fetched %c: %d blocks, %o', root, state.result.blocks, state.result.sources)
  return state.result
}

/** `gatewayRequests`: requests to gateways at once (default FETCH_LOOKAHEAD) */
export function createFetchState (helia: NodeHelia, root: CID, defaults: FetchDefaults, options: FetchOptions, gatewayRequests = FETCH_LOOKAHEAD): FetchState {
  const gateways = options.gateways ?? defaults.gateways
  gateways.forEach(checkGatewayUrl)
  const stop = new AbortController()
  const signal = options.signal == null ? stop.signal : AbortSignal.any([options.signal, stop.signal])
  return {
    helia,
    options: { ...options, signal },
    stop,
    gateways,
    distrusted: new Set(),
    peersGaveUp: false,
    providerTimeout: options.providerTimeout ?? defaults.providerTimeout,
    gatewayTimeout: options.gatewayTimeout ?? DEFAULT_GATEWAY_TIMEOUT,
    store: defaults.store,
    gatewayTurns: { limit: gatewayRequests, running: 0, waiting: [] },
    result: { cid: root, blocks: 0, bytes: 0, sources: {}, errors: [] }
  }
}

/**
 * The blocks a UnixFS file of `bytes` takes: its bytes and the nodes linking them, the `maxBytes`
 * to fetch such a file with. A link costs about 48 bytes; the AppImage chunker cuts incompressible
 * data into pieces of 1 KiB and more, and the content-defined layout's nodes hold 2 links or more,
 * so nodes took 2.1% of an incompressible image (scripts/bench/update-delta.ts) and stay under
 * 10% at the extremes; an eighth bounds them.
 */
export function dagAllowance (bytes: number): number {
  return bytes + Math.ceil(bytes / 8) + 1024 * 1024
}
