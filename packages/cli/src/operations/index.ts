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

/** Every operation the daemon serves at `POST /api/v1/op/{name}` */
export const operations: ReadonlyMap<string, Operation> = new Map<string, Operation>(
  ([nodeInfo, init, publish, yank, endorse, unendorse, rotateKey, revokeKey, status, search, showApp, trust, get, importAppImageHub, install, listInstalled, update, rollback, remove] as Operation[]).map(op => [op.name, op])
)
