import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'node:test'

const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url))

describe('footprint', () => {
  it('does not load the libp2p default config (WebRTC, DHT, TLS) that @hubless/net never uses', () => {
    // a fresh process that records every module it resolves, then imports the package
    const script = `
      import { registerHooks } from 'node:module'
      const seen = []
      registerHooks({ resolve (specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r } })
      await import(${JSON.stringify(entry)})
      console.log(JSON.stringify(seen))
    `
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 })
    assert.equal(child.status, 0, `the import failed: ${child.stderr}`)
    const seen = JSON.parse(child.stdout) as string[]
    assert.ok(seen.some(url => url.includes('/@helia/libp2p/')), 'expected @helia/libp2p among the loaded modules')
    const heavy = seen.filter(url => /libp2p-defaults|\/@libp2p\/(webrtc|kad-dht|tls|autonat)\//.test(url))
    assert.deepEqual(heavy, [], 'importing @hubless/net loaded the libp2p defaults (is patches/@helia__libp2p applied?)')
  })
})
