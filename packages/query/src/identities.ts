import type { RevokeKeyRecord, RotateKeyRecord } from '@hubless/registry/records'

/**
 * Which keys are one publisher. A rotate-key record (signed by the old key, countersigned by the
 * new one, both checked by the registry) moves the identity to the new key; a revoke-key record
 * marks the point after which a key's signatures mean nothing. The identity of a key is the
 * last key of its rotation chain, so everything that names an old key follows to the new one.
 */

interface Rotation { id: string, newKey: string, time: number }

export type KeyInvalidReason = 'revoked' | 'rotated'

export class Identities {
  private readonly rotations = new Map<string, Rotation[]>()
  private readonly revocations = new Map<string, number>()
  private resolved = new Map<string, string>()

  addRotation (id: string, record: RotateKeyRecord): void {
    const list = this.rotations.get(record.publisher) ?? []
    if (list.some(r => r.id === id)) return
    list.push({ id, newKey: record.newKey, time: record.time })
    list.sort((a, b) => a.time - b.time || (a.id < b.id ? -1 : 1))
    this.rotations.set(record.publisher, list)
    this.resolved.clear()
  }

  addRevocation (record: RevokeKeyRecord): void {
    const old = this.revocations.get(record.publisher)
    if (old == null || record.since < old) this.revocations.set(record.publisher, record.since)
    this.resolved.clear()
  }

  /** the moment from which `key` signs nothing valid, if any */
  revokedSince (key: string): number | undefined {
    return this.revocations.get(key)
  }

  /** the rotation that retired `key`: its first one signed before any revocation of it */
  rotationOf (key: string): Rotation | undefined {
    const since = this.revocations.get(key) ?? Number.POSITIVE_INFINITY
    const first = this.rotations.get(key)?.[0]
    return first != null && first.time < since ? first : undefined
  }

  /** why a signature by `key` made at `time` does not count, or undefined when it does */
  invalidAt (key: string, time: number): KeyInvalidReason | undefined {
    const since = this.revocations.get(key)
    if (since != null && time >= since) return 'revoked'
    const rotation = this.rotationOf(key)
    if (rotation != null && time >= rotation.time) return 'rotated'
    return undefined
  }

  /** the key that speaks for `key`'s publisher now */
  identityOf (key: string): string {
    const cached = this.resolved.get(key)
    if (cached != null) return cached
    const seen: string[] = [key]
    let current = key
    for (;;) {
      const next = this.rotationOf(current)?.newKey
      if (next == null) break
      const loop = seen.indexOf(next)
      if (loop >= 0) {
        // a rotation cycle needs both keys' signatures, so one owner made it: any fixed member will do
        current = seen.slice(loop).sort()[0]!
        break
      }
      seen.push(next)
      current = next
    }
    for (const k of seen) this.resolved.set(k, current)
    return current
  }

  /** the keys that were rotated into `identity`, oldest first (for explanations) */
  chainTo (key: string): string[] {
    const chain = [key]
    let current = key
    const seen = new Set([key])
    for (;;) {
      const next = this.rotationOf(current)?.newKey
      if (next == null || seen.has(next)) break
      chain.push(next)
      seen.add(next)
      current = next
    }
    return chain
  }

  get size (): number {
    return this.rotations.size + this.revocations.size
  }
}
