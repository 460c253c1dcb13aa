import { createPublicKey, verify as cryptoVerify } from 'node:crypto'
import { Worker } from 'node:worker_threads'
import { logger } from '@libp2p/logger'
import type { VerifySignature } from '../records/signed.ts'
import type { KeyObject } from 'node:crypto'

const log = logger('hubless:registry:signatures')

export interface SignatureBatch {
  verify: VerifySignature
  /**
   * Check queued signatures on this thread too, until none is left unsent (the worker finishes
   * what it holds): for a caller that has nothing else to do until the verdicts are in
   */
  help (options?: { signal?: AbortSignal }): Promise<void>
  /** stop the worker; checks still queued are answered on the calling thread */
  close (): void
}

export interface SignatureBatchInit {
  /** checks sent to the worker in one message (default 128) */
  batchSize?: number
}

/** batches the worker holds at once: one to check, one to start on as soon as it is done */
const MAX_IN_FLIGHT = 2
/** checks made on this thread between two turns of the event loop, in `help` */
const HELP_CHUNK = 16

/**
 * Ed25519 checks in bulk for a snapshot import: node:crypto's one-shot `verify` (OpenSSL, the same
 * strict RFC 8032 check WebCrypto makes, so every peer agrees) on one worker thread, in batches
 * packed into one transferred buffer. Measured on this 2-core machine, a WebCrypto check costs
 * ~65-95 µs of CPU and hands each call to libuv's 4-thread pool, whose threads then compete with
 * the main thread for the 2 cores; a synchronous node:crypto check costs ~60 µs. One worker keeps
 * the checks on another core while the main thread decodes the next entries, and once the main
 * thread has decoded everything it takes its share of what is left (`help`). The worker starts in
 * ~20 ms (plain JavaScript, node:crypto only) and ends with `close`.
 */
export function createSignatureBatch (init: SignatureBatchInit = {}): SignatureBatch {
  const batchSize = init.batchSize ?? 128
  let worker: Worker | undefined
  let failed = false
  let closed = false
  const queued: Job[] = []
  const inFlight = new Map<number, Job[]>()
  let nextId = 0
  let timer: ReturnType<typeof setImmediate> | undefined
  /** wakes `help` when the worker answers */
  let answered: ((value?: unknown) => void) | undefined

  const onFailure = (err: unknown): void => {
    if (failed) return
    failed = true
    log('the signature worker failed, checking on this thread - %e', err)
    for (const jobs of inFlight.values()) verifyHere(jobs)
    inFlight.clear()
    void worker?.terminate()
    worker = undefined
    verifyHere(queued.splice(0))
    answered?.()
  }

  const start = (): Worker | undefined => {
    if (failed || closed) return undefined
    if (worker != null) return worker
    try {
      worker = new Worker(WORKER_SOURCE, { eval: true })
    } catch (err) {
      onFailure(err)
      return undefined
    }
    worker.unref()
    worker.on('message', (msg: { id: number, out: Uint8Array }) => {
      const jobs = inFlight.get(msg.id)
      inFlight.delete(msg.id)
      if (jobs != null) for (let i = 0; i < jobs.length; i++) jobs[i]!.resolve(msg.out[i] === 1)
      send(false)
      // a partial batch left queued while both slots were busy (its send found no room) goes
      // once the checks just released have queued theirs: nothing else would send it
      if (queued.length > 0) timer ??= setImmediate(sendSoon)
      // an idle worker does not keep the process alive; one with checks in hand does
      if (inFlight.size === 0) worker?.unref()
      // after the released checks have run (they may queue more signatures)
      if (answered != null) { const wake = answered; answered = undefined; setImmediate(wake) }
    })
    worker.on('error', onFailure)
    worker.on('exit', code => { if (inFlight.size > 0) onFailure(new Error(`the signature worker exited with ${code}`)) })
    return worker
  }

  /** hand the worker what it has room for: whole batches, or whatever is queued when `partial` */
  const send = (partial: boolean): void => {
    while (inFlight.size < MAX_IN_FLIGHT && queued.length > 0 && (partial || queued.length >= batchSize)) {
      const w = start()
      if (w == null) { verifyHere(queued.splice(0)); return }
      const jobs = queued.splice(0, batchSize)
      const id = nextId++
      inFlight.set(id, jobs)
      w.ref()
      const { data, lengths } = pack(jobs)
      w.postMessage({ id, data, lengths }, [data.buffer, lengths.buffer])
    }
  }

  const sendSoon = (): void => {
    timer = undefined
    send(true)
  }

  return {
    verify: async (signature, message, publicKey) => {
      if (signature.byteLength !== 64 || publicKey.byteLength !== 32) return false
      return new Promise<boolean>(resolve => {
        queued.push({ signature, message, publicKey, resolve })
        send(false)
        if (queued.length > 0) timer ??= setImmediate(sendSoon)
      })
    },
    help: async (options = {}) => {
      while (queued.length > 0 || inFlight.size > 0) {
        options.signal?.throwIfAborted()
        if (queued.length === 0) {
          // the worker holds the rest: wait for its answer (the checks it releases may queue more)
          await new Promise(resolve => { answered = resolve })
          continue
        }
        // from the back: the worker takes its next batch from the front
        verifyHere(queued.splice(-HELP_CHUNK))
        // let the worker's answers in, and the checks they release queue their next signatures
        await new Promise(resolve => setImmediate(resolve))
      }
    },
    close: () => {
      closed = true
      if (timer != null) { clearImmediate(timer); timer = undefined }
      verifyHere(queued.splice(0))
      const w = worker
      if (w == null) return
      if (inFlight.size === 0) { void w.terminate(); return }
      // answered checks first, then stop
      w.on('message', () => { if (inFlight.size === 0) void w.terminate() })
    }
  }
}

interface Job {
  signature: Uint8Array
  message: Uint8Array
  publicKey: Uint8Array
  resolve (valid: boolean): void
}

/** key (32) | signature (64) | message, for each job, in one buffer */
function pack (jobs: Job[]): { data: Uint8Array<ArrayBuffer>, lengths: Uint32Array<ArrayBuffer> } {
  let size = 0
  for (const j of jobs) size += 96 + j.message.byteLength
  const data = new Uint8Array(size)
  const lengths = new Uint32Array(jobs.length)
  let o = 0
  for (let i = 0; i < jobs.length; i++) {
    const j = jobs[i]!
    data.set(j.publicKey, o)
    data.set(j.signature, o + 32)
    data.set(j.message, o + 96)
    lengths[i] = j.message.byteLength
    o += 96 + j.message.byteLength
  }
  return { data, lengths }
}

// DER SubjectPublicKeyInfo header of a raw Ed25519 key (RFC 8410)
const SPKI_PREFIX = Uint8Array.of(0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00)
const keys = new Map<string, KeyObject | null>()

function keyObject (publicKey: Uint8Array): KeyObject | null {
  const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, 32).toString('hex')
  let key = keys.get(id)
  if (key === undefined) {
    const der = new Uint8Array(44)
    der.set(SPKI_PREFIX)
    der.set(publicKey, 12)
    try {
      key = createPublicKey({ key: Buffer.from(der.buffer), format: 'der', type: 'spki' })
    } catch {
      // not a point on the curve: every signature by it fails
      key = null
    }
    if (keys.size >= 4096) keys.delete(keys.keys().next().value!)
    keys.set(id, key)
  }
  return key
}

/** One Ed25519 check on this thread, synchronously through node:crypto (for entries this peer has just written) */
export async function verifyOnThread (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): Promise<boolean> {
  if (signature.byteLength !== 64 || publicKey.byteLength !== 32) return false
  const key = keyObject(publicKey)
  try {
    return key != null && cryptoVerify(null, message, key, signature)
  } catch {
    return false
  }
}

/** The worker's check, on this thread (no worker, or it failed) */
function verifyHere (jobs: Job[]): void {
  for (const j of jobs) {
    const key = keyObject(j.publicKey)
    let valid = false
    try {
      valid = key != null && cryptoVerify(null, j.message, key, j.signature)
    } catch {
      valid = false
    }
    j.resolve(valid)
  }
}

// the same check as verifyHere, in plain JavaScript so that the worker starts without loading TypeScript
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads')
const { createPublicKey, verify } = require('node:crypto')
const SPKI_PREFIX = Buffer.from('${Buffer.from(SPKI_PREFIX).toString('hex')}', 'hex')
const keys = new Map()
function keyObject (pk) {
  const id = pk.toString('hex')
  let key = keys.get(id)
  if (key === undefined) {
    try { key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pk]), format: 'der', type: 'spki' }) } catch { key = null }
    if (keys.size >= 4096) keys.delete(keys.keys().next().value)
    keys.set(id, key)
  }
  return key
}
parentPort.on('message', ({ id, data, lengths }) => {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  const out = new Uint8Array(lengths.length)
  let o = 0
  for (let i = 0; i < lengths.length; i++) {
    const key = keyObject(buf.subarray(o, o + 32))
    try {
      out[i] = key != null && verify(null, buf.subarray(o + 96, o + 96 + lengths[i]), key, buf.subarray(o + 32, o + 96)) ? 1 : 0
    } catch { out[i] = 0 }
    o += 96 + lengths[i]
  }
  parentPort.postMessage({ id, out }, [out.buffer])
})
`
