import { createHash } from 'node:crypto'
import type { ReleaseDraft, ReleaseRecord } from '@hubless/registry/records'

/**
 * Idempotent imports: a draft and the release record signed from it have the same fingerprint,
 * whoever signed it and when, so an importer skips every draft whose fingerprint is already in
 * the registry and a second import of the same catalog appends nothing.
 */

function canonical (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical)
  if (typeof value !== 'object' || value === null) return value
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key]
    if (v !== undefined) out[key] = canonical(v)
  }
  return out
}

/** The draft fields of a release record (what an import decides; not publisher, time or chain) */
export function draftOfRecord (record: ReleaseRecord): ReleaseDraft {
  const { appId, version, channel, arch, content, app, imported } = record
  return { appId, version, channel, arch, content, app, imported }
}

/** hex SHA-256 of the draft's canonical JSON (object keys sorted, undefined fields dropped) */
export function draftFingerprint (draft: ReleaseDraft): string {
  return createHash('sha256').update(JSON.stringify(canonical(draft))).digest('hex')
}
