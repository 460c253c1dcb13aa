import { cleanIdentityText, cleanProseText, cleanVersion, isHttpUrl } from '@hubless/registry'
import type { ReleaseDraft as ImageDraft } from '@hubless/appimage'
import type { AppMetadata } from '@hubless/registry'

/**
 * What an AppImage says about itself (its AppStream and desktop files, written by anyone) made
 * into text the registry accepts: the registry refuses lone surrogates, bidirectional formatting
 * and invisible characters (records/text-rules.ts), and a version that would be a path in a file
 * name. Here they are dropped, so that a real image with a stray U+200B still publishes. It is
 * done here, where the draft becomes a record, because @hubless/appimage sits below the registry
 * and does not know its rules.
 */

function identity (value: string | undefined): string | undefined {
  const text = value == null ? undefined : cleanIdentityText(value).trim()
  return text === '' ? undefined : text
}

function prose (value: string | undefined): string | undefined {
  const text = value == null ? undefined : cleanProseText(value).trim()
  return text === '' ? undefined : text
}

function words (values: string[]): string[] | undefined {
  const out = [...new Set(values.map(identity).filter(v => v != null))]
  return out.length > 0 ? out : undefined
}

/** The image's declared version, its `/` and `\` made `-` and leading dots dropped */
export function imageVersion (draft: Pick<ImageDraft, 'version'>): string | undefined {
  const version = draft.version == null ? undefined : cleanVersion(draft.version)
  return version === '' ? undefined : version
}

/** The record's `app` from the image's draft; `icon` is the CID the icon was added as */
export function imageApp (draft: ImageDraft, icon: string | undefined): AppMetadata {
  return {
    name: identity(draft.name) ?? draft.appId,
    summary: prose(draft.summary),
    description: prose(draft.description),
    categories: words(draft.categories),
    keywords: words(draft.keywords),
    license: identity(draft.license),
    developer: identity(draft.developer),
    homepage: draft.homepage != null && isHttpUrl(draft.homepage) ? draft.homepage : undefined,
    icon
  }
}
