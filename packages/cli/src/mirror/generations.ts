import type { Services } from '../services.ts'

/**
 * Counters of change for the mirror's sources, the keys of its cached answers: the catalog's
 * bumps on every `changed` event (a new release, a yank, a trust change), the registry's on every
 * `record` event (the log only grows, and every record after opening is announced).
 */
export interface Generations {
  catalog (): Promise<number>
  registry (): Promise<number>
}

export function createGenerations (services: Pick<Services, 'catalog' | 'registry'>): Generations {
  let catalogCount = 0
  let registryCount = 0
  let catalogWatched: Promise<void> | undefined
  let registryWatched: Promise<void> | undefined

  return {
    async catalog () {
      catalogWatched ??= services.catalog().then(catalog => {
        catalog.events.addEventListener('changed', () => { catalogCount++ })
      }, err => { catalogWatched = undefined; throw err })
      await catalogWatched
      const catalog = await services.catalog()
      // reading the size brings the views up to date (pending records, expired endorsements),
      // which announces any change before the count is read
      void catalog.size
      return catalogCount
    },
    async registry () {
      registryWatched ??= services.registry().then(registry => {
        registry.addEventListener('record', () => { registryCount++ })
      }, err => { registryWatched = undefined; throw err })
      await registryWatched
      return registryCount
    }
  }
}
