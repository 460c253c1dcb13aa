/// <reference path="../../packages/registry/src/orbitdb.d.ts" />
/**
 * A hostile peer: a real hubless node (libp2p + Helia) that speaks the registry's protocols —
 * the gossipsub topic (the database address), OrbitDB's head exchange `/orbitdb/heads/<address>`
 * and the registry's snapshot protocol — and sends whatever a test tells it to: malformed heads,
 * garbage, huge messages, floods, and real OrbitDB entries that are invalid in chosen ways
 * (bad signature, forged identity, oversize payload, unknown parents).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNode } from '@hubless/net'
import { encodeSignedRecord, signRecord } from '@hubless/registry'
import { Entry } from '@orbitdb/core'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import type { HublessNode } from '@hubless/net'
import type { PublisherKey, UnsignedRecord } from '@hubless/registry'
import type { Stream } from '@libp2p/interface'
import type { Clock, Identity, LogEntry } from '@orbitdb/core'
// the same kind of writer identity honest peers use (Ed25519): its entries pass every check but ours
import { loadWriterIdentity } from '../../packages/registry/src/log/writer-identity.ts'

export interface HostileEntryOptions {
  /** Lamport clock time; default 1 */
  time?: number
  /** parent entry hashes; default none */
  next?: string[]
  /** sign the entry with our key but name this identity hash instead of ours */
  claimIdentity?: string
  /** flip a byte of the OrbitDB signature */
  badSignature?: boolean
}

export interface HostilePeer {
  node: HublessNode
  address: string
  /** our own (valid) OrbitDB writer identity */
  identity: Identity
  /** what we answer on `/orbitdb/heads/<address>`: raw chunks sent as they are */
  heads: Uint8Array[]
  /** ms to wait before each of `heads` (default 0) */
  headsEvery: number
  /** keep head exchanges open after `heads` (default: close them) */
  headsHeldOpen: boolean
  /** what we answer on the snapshot protocol, or undefined to refuse it */
  snapshot: Uint8Array[] | undefined
  /** how many head-exchange and snapshot streams honest peers opened to us */
  readonly asked: { heads: number, snapshot: number }
  /** subscribe to the registry topic (so honest peers exchange heads with us) */
  join (): Promise<void>
  /** publish raw bytes on the registry topic; resolves to the number of peers it went to */
  gossip (bytes: Uint8Array): Promise<number>
  /** an OrbitDB entry of the registry's log, encoded as peers exchange it */
  entry (payload: unknown, options?: HostileEntryOptions): Promise<{ hash: string, bytes: Uint8Array }>
  /** an entry whose payload is a properly signed hubless record */
  recordEntry (record: UnsignedRecord, key: PublisherKey, options?: HostileEntryOptions): Promise<{ hash: string, bytes: Uint8Array }>
  /** a CID nobody holds */
  unknownCid (): Promise<string>
  stop (): Promise<void>
}

export async function createHostilePeer (address: string, snapshotProtocol?: string): Promise<HostilePeer> {
  const directory = await mkdtemp(join(tmpdir(), 'hubless-hostile-'))
  const node = await createNode({ directory, listen: ['/ip4/127.0.0.1/tcp/0'], pubsubHeartbeatInterval: 200 })
  try {
    const identity = await loadWriterIdentity(node.helia, join(directory, 'writer'))
    const asked = { heads: 0, snapshot: 0 }
    let counter = 0

    const peer: HostilePeer = {
      node,
      address,
      identity,
      heads: [],
      headsEvery: 0,
      headsHeldOpen: false,
      snapshot: undefined,
      asked,
      async join () {
        node.libp2p.services.pubsub.subscribe(address)
      },
      async gossip (bytes) {
        try {
          const result = await node.libp2p.services.pubsub.publish(address, bytes)
          return result.recipients.length
        } catch {
          // gossipsub refuses some messages itself (too large, no peers): that is the point
          return 0
        }
      },
      async entry (payload, options = {}) {
        const clock: Clock = { id: identity.publicKey, time: options.time ?? 1 }
        const signer = options.claimIdentity == null ? identity : { ...identity, hash: options.claimIdentity }
        const entry: LogEntry = await Entry.create(signer, address, payload, undefined, clock, options.next ?? [], [])
        if (options.badSignature === true && typeof entry.sig === 'string') {
          entry.sig = (entry.sig[0] === '0' ? '1' : '0') + entry.sig.slice(1)
        }
        const encoded = await Entry.encode(entry)
        // peers fetch parents and identities over bitswap: hold the entry like a writer would
        await node.helia.blockstore.put(CID.parse(encoded.hash, base58btc), encoded.bytes)
        return encoded
      },
      async recordEntry (record, key, options) {
        const signed = await signRecord(record, key)
        return peer.entry({ op: 'ADD', key: null, value: encodeSignedRecord(signed) }, options)
      },
      async unknownCid () {
        const bytes = new TextEncoder().encode(`nobody has this ${Date.now()} ${counter++} ${Math.random()}`)
        return CID.createV1(raw.code, await sha256.digest(bytes)).toString(base58btc)
      },
      async stop () {
        await node.stop().catch(() => {})
        await rm(directory, { recursive: true, force: true })
      }
    }

    await node.libp2p.handle(`/orbitdb/heads${address}`, (stream: Stream) => {
      asked.heads++
      void (async () => {
        for (const chunk of peer.heads) {
          if (peer.headsEvery > 0) await new Promise(resolve => setTimeout(resolve, peer.headsEvery))
          if (stream.status !== 'open') return
          if (!stream.send(chunk)) await stream.onDrain({ signal: AbortSignal.timeout(10_000) })
        }
        if (peer.headsHeldOpen) return
        await stream.close({ signal: AbortSignal.timeout(10_000) })
      })().catch(err => { stream.abort(err as Error) })
    })
    if (snapshotProtocol != null) {
      await node.libp2p.handle(snapshotProtocol, (stream: Stream) => {
        asked.snapshot++
        void (async () => {
          if (peer.snapshot == null) {
            stream.abort(new Error('no snapshot'))
            return
          }
          for (const chunk of peer.snapshot) {
            if (!stream.send(chunk)) await stream.onDrain({ signal: AbortSignal.timeout(10_000) })
          }
          await stream.close({ signal: AbortSignal.timeout(10_000) })
        })().catch(err => { stream.abort(err as Error) })
      })
    }
    return peer
  } catch (err) {
    await node.stop().catch(() => {})
    await rm(directory, { recursive: true, force: true })
    throw err
  }
}

/** Heap after a full collection, in bytes (exposes gc if the process was started without it) */
export async function settledHeap (): Promise<number> {
  const { setFlagsFromString } = await import('node:v8')
  const { runInNewContext } = await import('node:vm')
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  for (let i = 0; i < 3; i++) {
    gc()
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  return process.memoryUsage().heapUsed
}
