import { defineOperation } from './operation.ts'

export interface InitOutput {
  dataDir: string
  peerId: string
  publisher: string
  /** the publisher key was made now (false: it existed) */
  createdKey: boolean
}

/** Node key (made by opening the node), publisher key, and the publisher's own key as a trust root */
export const init = defineOperation<{ passphrase?: string }, InitOutput, 'init'>('init', async ({ services, signal }) => {
  const exists = await services.keys.exists()
  const passphrase = process.env.HUBLESS_KEY_PASSPHRASE
  const key = exists ? await services.publisherKey({ signal }) : await services.keys.create({ passphrase, signal })
  await services.trustRoots.add(key.did)
  await services.reloadTrustRoots()
  return { dataDir: services.layout.root, peerId: services.node.peerId.toString(), publisher: key.did, createdKey: !exists }
})
