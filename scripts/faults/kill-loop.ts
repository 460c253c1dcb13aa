/**
 * Crash safety under SIGKILL, in a bounded loop: `node scripts/faults/kill-loop.ts [COUNT]`.
 * Each round starts a writer (or a mirror replicating from a publishing peer) on the same data
 * dir, kills it with SIGKILL at a random point, reopens the dir and checks that it opens, that
 * every record the process acknowledged is there, and that the log is consistent (each record
 * once, the count equal to the status). At the end a fresh peer syncs everything from each.
 * Prints the figures and writes bench-results/kill-loop.json.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createNode } from '@hubless/net'
import { buildReleaseRecord, createPublisherKey, createRegistry } from '@hubless/registry'
import type { HublessNode } from '@hubless/net'
import type { Registry } from '@hubless/registry'

const here = dirname(fileURLToPath(import.meta.url))
const CHILD = join(here, 'child.ts')
const NAME = 'faults-registry'

export interface KillRound {
  role: 'writer' | 'mirror'
  /** ms after `ready` the kill came (or -1: killed before ready) */
  killedAfter: number
  acknowledged: number
  lost: number
  recordsAfter: number
  reopenMs: number
}

export interface KillLoopResult {
  rounds: KillRound[]
  faults: number
  acknowledged: number
  lost: number
  /** every reopened log held each record once and matched its status */
  consistent: boolean
  /** a fresh peer got every record from the crashed-and-reopened ones */
  synced: boolean
}

interface OpenPeer { node: HublessNode, registry: Registry }

async function open (directory: string): Promise<OpenPeer> {
  const node = await createNode({ directory, listen: ['/ip4/127.0.0.1/tcp/0'], pubsubHeartbeatInterval: 200 })
  try {
    return { node, registry: await createRegistry({ node }, { name: NAME, announceInterval: 1_000 }) }
  } catch (err) {
    await node.stop()
    throw err
  }
}

async function close (peer: OpenPeer): Promise<void> {
  await peer.registry.stop()
  await peer.node.stop()
}

async function ids (registry: Registry): Promise<string[]> {
  const out: string[] = []
  for await (const r of registry.records()) out.push(r.id)
  return out
}

/** Start the child, let it run for `runMs` after ready (or kill during start-up), SIGKILL it; returns what it acknowledged */
async function runAndKill (args: string[], runMs: number, killBeforeReady: boolean): Promise<{ acknowledged: string[], killedAfter: number }> {
  const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const acknowledged: string[] = []
  let buffer = ''
  let readyAt = 0
  let stderr = ''
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
  const exited = once(child, 'exit')
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`the child did not get ready in 60 s: ${stderr.slice(-500)}`)) }, 60_000)
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString()
      const lines = buffer.split('\n')
      buffer = lines.pop() ?? ''
      for (const line of lines) {
        if (line === 'ready') { readyAt = Date.now(); clearTimeout(timer); resolve() } else if (line !== '') acknowledged.push(line)
      }
    })
    void exited.then(() => { clearTimeout(timer); reject(new Error(`the child exited before ready: ${stderr.slice(-500)}`)) })
  })
  try {
    if (killBeforeReady) {
      await new Promise(resolve => setTimeout(resolve, runMs))
    } else {
      await ready
      await new Promise(resolve => setTimeout(resolve, runMs))
    }
  } finally {
    child.kill('SIGKILL')
    await exited
    ready.catch(() => {})
  }
  // lines the child wrote before it died are acknowledgements too
  if (buffer !== '' && buffer !== 'ready') acknowledged.push(buffer)
  if (child.signalCode !== 'SIGKILL') throw new Error(`the child ended with ${child.exitCode} instead of being killed: ${stderr.slice(-500)}`)
  return { acknowledged, killedAfter: readyAt === 0 ? -1 : Date.now() - readyAt }
}

export async function runKillLoop (init: { count: number, log?: (line: string) => void }): Promise<KillLoopResult> {
  const log = init.log ?? (() => {})
  const root = await mkdtemp(join(tmpdir(), 'hubless-kill-'))
  const writerDir = join(root, 'writer')
  const mirrorDir = join(root, 'mirror')
  const rounds: KillRound[] = []
  const everAcknowledged = { writer: new Set<string>(), mirror: new Set<string>() }
  let consistent = true
  let synced = false
  const publisherDir = join(root, 'publisher')
  let publisher: OpenPeer | undefined
  let publishing: Promise<void> | undefined
  let stopPublishing = false
  try {
    publisher = await open(publisherDir)
    const key = createPublisherKey()
    let n = 0
    const pub = publisher
    publishing = (async () => {
      while (!stopPublishing) {
        await pub.registry.publish(buildReleaseRecord({
          appId: 'org.faults.Mirror', version: `1.${n}`, channel: 'nightly', arch: 'x86_64',
          content: { urls: [`https://example.org/m${n}.AppImage`] }, app: { name: 'Mirror crash test' }
        }, { publisher: key.did }), key)
        n++
        await new Promise(resolve => setTimeout(resolve, 20))
      }
    })()
    const publisherAddr = publisher.node.getMultiaddrs()[0]!

    for (let round = 0; round < init.count; round++) {
      const role = round % 3 === 2 ? 'mirror' : 'writer'
      const directory = role === 'writer' ? writerDir : mirrorDir
      const killBeforeReady = Math.random() < 0.15
      const runMs = killBeforeReady ? 200 + Math.floor(Math.random() * 1500) : 100 + Math.floor(Math.random() * 2500)
      const { acknowledged, killedAfter } = await runAndKill(role === 'writer' ? ['writer', directory] : ['mirror', directory, publisherAddr], runMs, killBeforeReady)
      for (const id of acknowledged) everAcknowledged[role].add(id)

      const started = Date.now()
      const reopened = await open(directory)
      const reopenMs = Date.now() - started
      try {
        const list = await ids(reopened.registry)
        const have = new Set(list)
        const lost = [...everAcknowledged[role]].filter(id => !have.has(id))
        const status = await reopened.registry.status()
        if (have.size !== list.length || status.records !== have.size) {
          consistent = false
          log(`round ${round}: inconsistent log: ${list.length} listed, ${have.size} distinct, status says ${status.records}`)
        }
        rounds.push({ role, killedAfter, acknowledged: acknowledged.length, lost: lost.length, recordsAfter: have.size, reopenMs })
        log(`round ${round + 1}/${init.count} ${role}: killed ${killedAfter < 0 ? 'during start-up' : `${killedAfter} ms after ready`}, ${acknowledged.length} acknowledged, ${lost.length} lost, ${have.size} records, reopened in ${reopenMs} ms`)
      } finally {
        await close(reopened)
      }
    }
    stopPublishing = true
    await publishing

    // each crashed-and-reopened log still syncs: a fresh peer takes everything from it (one fresh
    // peer per log, so that each log's own sync is what is timed)
    synced = true
    for (const [role, directory] of [['writer', writerDir], ['mirror', mirrorDir]] as const) {
      const source = await open(directory)
      const fresh = await open(join(root, `fresh-${role}`))
      try {
        const want = await ids(source.registry)
        await fresh.node.dial(source.node.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(10_000) })
        const started = Date.now()
        let done = false
        while (Date.now() - started < 120_000) {
          const have = new Set(await ids(fresh.registry))
          if (want.every(id => have.has(id))) { done = true; break }
          await new Promise(resolve => setTimeout(resolve, 200))
        }
        synced &&= done
        log(`a fresh peer ${done ? 'synced' : 'did NOT sync'} all ${want.length} records of the reopened ${role} in ${Date.now() - started} ms`)
      } finally {
        await close(fresh)
        await close(source)
      }
    }
  } finally {
    stopPublishing = true
    await publishing?.catch(() => {})
    if (publisher != null) await close(publisher).catch(() => {})
    await rm(root, { recursive: true, force: true })
  }
  const acknowledged = rounds.reduce((s, r) => s + r.acknowledged, 0)
  const lost = rounds.reduce((s, r) => Math.max(s, r.lost), 0)
  return { rounds, faults: rounds.length, acknowledged, lost, consistent, synced }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const count = Number(process.argv[2] ?? 20)
  if (!Number.isSafeInteger(count) || count < 1) {
    console.error('usage: node scripts/faults/kill-loop.ts [COUNT]')
    process.exit(2)
  }
  const result = await runKillLoop({ count, log: line => { console.log(line) } })
  console.log(`SIGKILLs ${result.faults}, acknowledged records ${result.acknowledged}, lost ${result.lost}, consistent ${result.consistent}, synced ${result.synced}`)
  const file = join(here, '..', '..', 'bench-results', 'kill-loop.json')
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, JSON.stringify({ name: 'kill-loop', date: new Date().toISOString(), node: process.version, ...result }, null, 2) + '\n')
  console.log(`wrote ${file}`)
  process.exit(result.lost === 0 && result.consistent && result.synced ? 0 : 1)
}
