import type { MirrorComponents } from './index.ts'

/**
 * Counters of change for the mirror's sources, the keys of its cached answers: the catalog's
 * bumps on every `changed` event (a new release, a yank, a trust change), the registry's on every
 * `record` event (the log only grows, and every record after opening is announced).
 */
export interface Generations {
  catalog (): Promise<number>
  registry (): Promise<number>
}

export function createGenerations ({ catalog, registry }: Pick<MirrorComponents, 'catalog' | 'registry'>): Generations {
  let catalogCount = 0
  let registryCount = 0
  catalog.events.addEventListener('changed', () => { catalogCount++ })
  registry.addEventListener('record', () => { registryCount++ })

  return {
    async catalog () {
      // reading the size brings the views up to date (pending records, expired endorsements),
      // which announces any change before the count is read
      void catalog.size
      return catalogCount
    },
    async registry () {
      return registryCount
    }
  }
}
