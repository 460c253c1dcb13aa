import { nodeInfo } from './node-info.ts'
import type { Operation } from './operation.ts'

/** Every operation the daemon serves at `POST /api/v1/op/{name}` */
export const operations: ReadonlyMap<string, Operation> = new Map<string, Operation>(
  ([nodeInfo] as Operation[]).map(op => [op.name, op])
)
