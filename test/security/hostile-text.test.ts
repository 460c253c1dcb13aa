/**
 * Hostile text: versions that would be paths in a file name, names that pose as another app's
 * (bidirectional overrides, invisible characters), lone surrogates and a hash without a size.
 * Each is refused when an honest publisher builds and signs it, and when a hostile writer skips
 * every check and puts the entry on the registry's topic itself; replication goes on.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import * as dagCbor from '@ipld/dag-cbor'
import { buildReleaseRecord, createPublisherKey, signRecord } from '@hubless/registry'
import type { PublisherKey, ReleaseDraft, ReleaseRecord } from '@hubless/registry'
// the publisher's signature with none of signRecord's checks
import { sign } from '../../packages/registry/src/records/ed25519.ts'
import { createHostilePeer } from './hostile-peer.ts'
import type { HostilePeer } from './hostile-peer.ts'
import { connect, honestPair, ids, Swarm, until, waitForRecords } from './swarm.ts'
import type { Peer } from './swarm.ts'

const SHA = 'b'.repeat(64)

function draft (n: number, patch: Partial<ReleaseDraft> = {}): ReleaseDraft {
  return {
    appId: 'org.hubless.Text',
    version: `1.0.${n}`,
    channel: 'release',
    arch: 'x86_64',
    content: { sha256: SHA, size: 10, urls: [`https://example.org/text-${n}.AppImage`] },
    app: { name: 'Text target' },
    ...patch
  }
}

function release (key: PublisherKey, n: number, patch: Partial<ReleaseDraft> = {}): ReleaseRecord {
  return buildReleaseRecord(draft(n, patch), { publisher: key.did, time: 1_700_000_000_000 + n })
}

/** A record signed as a publisher would, skipping every check signRecord makes */
async function rawWire (record: unknown, key: PublisherKey): Promise<Uint8Array> {
  return rawWireOf(dagCbor.encode(record), key)
}

async function rawWireOf (bytes: Uint8Array, key: PublisherKey): Promise<Uint8Array> {
  return dagCbor.encode({ r: bytes, s: await sign(bytes, key) })
}

/** The record with `name` spelled as a lone surrogate on the wire: dag-cbor cannot encode one, so its UTF-8-like bytes are put in by hand */
async function loneSurrogateWire (key: PublisherKey, n: number): Promise<Uint8Array> {
  const bytes = dagCbor.encode(release(key, n, { app: { name: 'Lone\ufffd' } }))
  const at = bytes.findIndex((_, i) => bytes[i] === 0xef && bytes[i + 1] === 0xbf && bytes[i + 2] === 0xbd)
  assert.ok(at > 0, 'U+FFFD in the encoding')
  const out = Uint8Array.from(bytes)
  out.set([0xed, 0xa0, 0x80], at)
  return rawWireOf(out, key)
}

interface Case {
  what: string
  patch: Partial<ReleaseDraft>
  /** the error signing names */
  name: string
}

const CASES: Case[] = [
  { what: 'version ../../', patch: { version: '../../' }, name: 'InvalidFieldError' },
  { what: 'version /etc/passwd', patch: { version: '/etc/passwd' }, name: 'InvalidFieldError' },
  { what: 'version a\\b', patch: { version: 'a\\b' }, name: 'InvalidFieldError' },
  { what: 'version .hidden', patch: { version: '.hidden' }, name: 'InvalidFieldError' },
  { what: 'a right-to-left override in the name', patch: { app: { name: 'Text\u202etegrat' } }, name: 'InvalidFieldError' },
  { what: 'a zero width space in the name', patch: { app: { name: 'Text\u200btarget' } }, name: 'InvalidFieldError' },
  { what: 'a left-to-right isolate in the summary', patch: { app: { name: 'Text target', summary: 'safe \u2066app' } }, name: 'InvalidFieldError' },
  { what: 'a BOM in a keyword', patch: { app: { name: 'Text target', keywords: ['edi\ufefftor'] } }, name: 'InvalidFieldError' },
  { what: 'a lone surrogate in the name', patch: { app: { name: 'Lone\ud800' } }, name: 'MalformedTextError' },
  { what: 'a lone surrogate in a keyword', patch: { app: { name: 'Text target', keywords: ['ok', '\udc00'] } }, name: 'MalformedTextError' },
  { what: 'a sha256 without a size', patch: { content: { sha256: SHA, urls: ['https://example.org/t.AppImage'] } }, name: 'MissingSizeError' }
]

describe('hostile text', () => {
  const swarm = new Swarm('hostile-text')
  let a: Peer
  let b: Peer
  let hostile: HostilePeer
  const key = createPublisherKey()
  const valid: string[] = []
  /** entry hash -> error name, as b reports them */
  const rejected = new Map<string, string>()
  let n = 100

  before(async () => {
    const pair = await honestPair(swarm, release(key, 0), key)
    ;({ a, b } = pair)
    valid.push(pair.first)
    b.registry.addEventListener('rejected', e => { if (e.detail.entry != null) rejected.set(e.detail.entry, e.detail.error.name) })
    hostile = await createHostilePeer(a.registry.address)
    await connect(hostile.node, a.node)
    await connect(hostile.node, b.node)
    await hostile.join()
    await until(async () => (await hostile.gossip(new Uint8Array(1))) >= 2, 20_000, () => 'the hostile peer never reached both honest peers on the topic')
  })
  after(async () => {
    await hostile?.stop()
    await swarm.cleanup()
  })

  /** b refuses the hostile entry with a named error, and the next valid record still replicates to both */
  async function refusedByPeers (wire: Uint8Array, expected: string | RegExp): Promise<void> {
    const entry = await hostile.entry({ op: 'ADD', key: null, value: wire }, { time: n++ })
    await hostile.gossip(entry.bytes)
    await until(() => rejected.has(entry.hash), 20_000, () => `b never refused entry ${entry.hash} (it refused ${JSON.stringify(Object.fromEntries(rejected))})`)
    assert.match(rejected.get(entry.hash) ?? '', typeof expected === 'string' ? new RegExp(`^${expected}$`) : expected)
    valid.push((await a.registry.publish(release(key, n++), key)).id)
    await waitForRecords(b.registry, valid, 30_000)
    for (const p of [a, b]) assert.deepEqual(await ids(p.registry), [...valid].sort(), 'only the valid records are in the log')
  }

  for (const c of CASES) {
    it(`${c.what}: refused when signed, when published, and by every peer when a hostile writer sends it`, async () => {
      const record = release(key, n++, c.patch)
      await assert.rejects(signRecord(record, key), (err: Error) => err.name === c.name, `signRecord: expected ${c.name}`)
      await assert.rejects(a.registry.publish(record, key), (err: Error) => err.name === c.name, `publish: expected ${c.name}`)
      // the hostile writer: a lone surrogate cannot be encoded, so it goes in by hand (then the
      // bytes are not the canonical encoding of what they decode to); the rest is signed as is
      const wire = c.name === 'MalformedTextError' ? await loneSurrogateWire(key, n++) : await rawWire(record, key)
      await refusedByPeers(wire, c.name === 'MalformedTextError' ? /^(MalformedTextError|MalformedRecordError)$/ : c.name)
    })
  }

  it('counts what it refused in status, for an operator to see', async () => {
    const status = await b.registry.status()
    assert.ok(status.rejected >= CASES.length, `b counted ${status.rejected} refused entries, expected at least ${CASES.length}`)
  })
})
