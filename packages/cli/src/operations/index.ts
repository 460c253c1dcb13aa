import { search, showApp, trust } from './catalog.ts'
import { importAppImageHub } from './import-appimagehub.ts'
import { get } from './get.ts'
import { init } from './init.ts'
import { install, listInstalled, remove, rollback, update } from './install.ts'
import { nodeInfo } from './node-info.ts'
import { publish } from './publish.ts'
import { endorse, revokeKey, rotateKey, unendorse, yank } from './publisher-records.ts'
import { status } from './status.ts'
import type { Operation } from './operation.ts'

const all = [nodeInfo, init, publish, yank, endorse, unendorse, rotateKey, revokeKey, status, search, showApp, trust, get, importAppImageHub, install, listInstalled, update, rollback, remove] as const

/**
 * Every operation by name, as a type: a command names the operation it runs (`'search'`) and
 * imports this type only, so it loads none of the operation's code unless it runs it here.
 */
export type OperationMap = { [O in (typeof all)[number] as O['name']]: O }
export type OperationName = keyof OperationMap

/** Every operation the daemon serves at `POST /api/v1/op/{name}` */
export const operations: ReadonlyMap<string, Operation> = new Map<string, Operation>(
  (all as readonly Operation[]).map(op => [op.name, op])
)
