/**
 * The mirror's JSON API v1 alone: its types and the mapping from the catalog's views to them,
 * without the server (`@hubless/mirror/api`). The CLI's `--json` speaks the same vocabulary
 * and loads only this.
 */
export * from './api-mapping.ts'
export type * from './api-types.ts'
export { type AppWitnesses, appWitnesses, releasedVersions, witnessFields } from './witness-mapping.ts'
