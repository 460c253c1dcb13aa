/** The update information an AppImage carries in its `.upd_info` section */
export interface UpdateInformation {
  /** the string as found (NUL padding removed) */
  raw: string
  transport: 'zsync' | 'gh-releases-zsync' | 'gl-releases-zsync' | 'pling-v1-zsync' | 'bintray-zsync' | 'unknown'
  /** true for transports that no longer work (bintray shut down in 2021) */
  deprecated: boolean
  /** `zsync`: the URL of the .zsync file */
  url?: string
  /** `gh-releases-zsync`: user, repo, tag (`latest` or a name), file name pattern */
  user?: string
  repo?: string
  tag?: string
  pattern?: string
  /** `pling-v1-zsync`: the product id and file name pattern */
  productId?: string
  /** every `|`-separated field after the transport */
  fields: string[]
}

/** Parses update information; returns undefined for an empty (all-NUL or blank) section */
export function parseUpdateInformation (text: string): UpdateInformation | undefined {
  const raw = text.replace(/\0+$/, '').replace(/\0.*$/s, '').trim()
  if (raw === '') return undefined
  const [transport = '', ...fields] = raw.split('|')
  const info: UpdateInformation = { raw, transport: 'unknown', deprecated: false, fields }
  switch (transport) {
    case 'zsync':
      info.transport = 'zsync'
      if (fields[0] !== undefined) info.url = fields.join('|')
      break
    case 'gh-releases-zsync':
    case 'gl-releases-zsync':
      info.transport = transport
      if (fields[0] !== undefined) info.user = fields[0]
      if (fields[1] !== undefined) info.repo = fields[1]
      if (fields[2] !== undefined) info.tag = fields[2]
      if (fields[3] !== undefined) info.pattern = fields[3]
      break
    case 'pling-v1-zsync':
      info.transport = 'pling-v1-zsync'
      if (fields[0] !== undefined) info.productId = fields[0]
      if (fields[1] !== undefined) info.pattern = fields[1]
      break
    case 'bintray-zsync':
      info.transport = 'bintray-zsync'
      info.deprecated = true
      if (fields[0] !== undefined) info.user = fields[0]
      if (fields[1] !== undefined) info.repo = fields[1]
      if (fields[3] !== undefined) info.pattern = fields[3]
      break
  }
  return info
}
