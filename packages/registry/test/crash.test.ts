import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { after, describe, it } from 'node:test'
import { createPublisherKey } from '../src/index.ts'
import { releaseRecord } from './fixtures.ts'
import { connect, ids, Peers, waitForRecords } from './peers.ts'

const WRITER = fileURLToPath(new URL('./helpers/writer-process.ts', import.meta.url))

describe('crash safety', () => {
  const peers = new Peers()
  after(async () => { await peers.cleanup() })

  it('a writer killed with SIGKILL mid-publish reopens with every acknowledged record, and syncs', async () => {
    const dir = await peers.dir()
    const child = spawn(process.execPath, [WRITER, dir], { stdio: ['ignore', 'pipe', 'inherit'] })
    const acknowledged: string[] = []
    let buffer = ''
    const enough = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`the writer acknowledged only ${acknowledged.length} records in 60 s`)) }, 60_000)
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString()
        const lines = buffer.split('\n')
        buffer = lines.pop() ?? ''
        for (const line of lines) if (line.startsWith('bafy')) acknowledged.push(line)
        // kill at a point that varies from run to run, while publishes are in flight
        if (acknowledged.length >= 40 + Math.floor(Math.random() * 20)) {
          clearTimeout(timer)
          resolve()
        }
      })
      child.once('exit', code => { clearTimeout(timer); reject(new Error(`the writer exited early with ${code}`)) })
    })
    try {
      await enough
    } finally {
      const exited = once(child, 'exit')
      child.kill('SIGKILL')
      await exited
    }
    assert.equal(child.signalCode, 'SIGKILL')

    const reopened = await peers.start(dir)
    const have = new Set(await ids(reopened.registry))
    const lost = acknowledged.filter(id => !have.has(id))
    assert.deepEqual(lost, [], `${lost.length} acknowledged records lost of ${acknowledged.length}`)
    assert.ok(have.size >= acknowledged.length)

    // the reopened log takes new writes and syncs with a fresh peer
    const key = createPublisherKey()
    const more = await reopened.registry.publish(releaseRecord(key, {}, 1), key)
    const fresh = await peers.start()
    await connect(fresh, reopened)
    await waitForRecords(fresh.registry, [...have, more.id], 60_000)
  })
})
