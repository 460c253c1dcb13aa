import { type AppImage, requireType2 } from './appimage.ts'
import { type FoundDesktopEntry, type FoundIcon, type FoundMetainfo, findDesktopEntry, findIcon, findMetainfo } from './contents.ts'
import { buildReleaseDraft, type ReleaseDraft } from './draft.ts'
import type { AbortOptions } from './types.ts'

export interface AppImageMetadata {
  draft: ReleaseDraft
  desktop?: FoundDesktopEntry
  metainfo?: FoundMetainfo
  /** the icon's bytes, for publishing it next to the release */
  icon?: FoundIcon
}

/** Reads the desktop entry, metainfo and icon of a type 2 AppImage and builds its release draft */
export async function readAppImageMetadata (appImage: AppImage, options?: AbortOptions): Promise<AppImageMetadata> {
  const fs = requireType2(appImage)
  const desktop = await findDesktopEntry(fs, options)
  const metainfo = await findMetainfo(fs, desktop?.path, options)
  const icon = await findIcon(fs, desktop?.entry.get('Icon'), options)
  const draft = buildReleaseDraft({
    architecture: appImage.architecture,
    ...(desktop !== undefined ? { desktop } : {}),
    ...(metainfo !== undefined ? { metainfo } : {}),
    ...(icon !== undefined ? { icon } : {}),
    ...(appImage.updateInformation !== undefined ? { updateInformation: appImage.updateInformation } : {})
  })
  const out: AppImageMetadata = { draft }
  if (desktop !== undefined) out.desktop = desktop
  if (metainfo !== undefined) out.metainfo = metainfo
  if (icon !== undefined) out.icon = icon
  return out
}
