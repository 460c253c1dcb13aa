import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { openAppImage, readAppImageMetadata } from '@hubless/appimage'
import { askHolds, buildReleaseRecord, findPreviousRelease, holdsAll, IncompleteDraftError, isChannel, isHttpUrl } from '@hubless/registry'
import { peerIdFromString } from '@libp2p/peer-id'
import { NotReplicatedError, UsageError } from '../errors.ts'
import { addAppImageContent, imageApp, imageVersion } from '@hubless/mirror'
import { defineOperation } from './operation.ts'
import type { OperationContext } from './operation.ts'
import type { Channel, HoldsQuery } from '@hubless/registry'

export interface PublishInput {
  /** absolute path of the AppImage */
  file: string
  channel: string
  version?: string
  urls?: string[]
  /** override the app id the image declares (or that was derived) */
  appId?: string
  /** multiaddrs of peers to hand the release to; publishing waits until one holds it all */
  peers?: string[]
  /** how long to wait for a peer to hold the release; default 120 */
  waitSeconds?: number
}

export interface PublishOutput {
  id: string
  appId: string
  version: string
  channel: Channel
  arch: string
  cid: string
  sha256: string
  size: number
  publisher: string
  previous?: string
  /** the app id was made up because the image declares none */
  derivedAppId: boolean
  icon?: string
  /** peers that hold the record and keep (pin) the content; absent when there was no peer to ask */
  heldBy?: string[]
}

export const publish = defineOperation<PublishInput, PublishOutput, 'publish'>('publish', async (context, input) => {
  const { services, signal, onProgress } = context
  if (!isChannel(input.channel)) {
    throw new UsageError(`--channel "${input.channel}" is not one of release, beta, alpha, nightly, continuous`)
  }
  for (const url of input.urls ?? []) {
    if (!isHttpUrl(url)) throw new UsageError(`--url "${url}" is not an http(s) URL`)
  }
  const key = await services.publisherKey({ signal })
  // an unreachable peer is found before anything is written
  for (const peer of input.peers ?? []) {
    await services.node.dial(peer, { signal: AbortSignal.any([signal, AbortSignal.timeout(15_000)]) })
  }

  // everything that can be wrong with the image or the metadata is found before anything is written
  onProgress?.({ phase: 'reading the image' })
  const appImage = await openAppImage(input.file, { signal })
  const metadata = await readAppImageMetadata(appImage, { signal }).finally(async () => { await appImage.close() })
  const draft = metadata.draft
  const version = input.version ?? imageVersion(draft)
  if (version == null || version.trim() === '') {
    throw new IncompleteDraftError(`${input.file} declares no version (no AppStream <release>); pass --version`)
  }
  const appId = input.appId ?? draft.appId
  const { size } = await stat(input.file)

  const sha256 = await hashFile(input.file, size, context)
  onProgress?.({ phase: 'adding content', done: 0, total: size })
  const cid = await addAppImageContent(services, input.file, {
    signal,
    onBytes: bytes => { onProgress?.({ phase: 'adding content', done: bytes, total: size }) }
  })
  let icon: string | undefined
  if (metadata.icon != null) {
    icon = (await services.node.content.add(metadata.icon.bytes, { signal })).toString()
  }

  const registry = await services.registry({ signal })
  // the catalog indexes every release by app and key, trusted or not: no walk over the registry
  const chain = { publisher: key.did, appId, channel: input.channel }
  const previous = findPreviousRelease((await services.catalog({ signal })).releases(chain), chain)

  const app = imageApp(draft, icon)
  const record = buildReleaseRecord({
    appId,
    version,
    channel: input.channel,
    arch: draft.architecture,
    content: {
      cid: cid.toString(),
      sha256,
      size,
      urls: input.urls ?? [],
      updateInformation: draft.updateInformation
    },
    app
  }, { publisher: key.did, previous: previous?.id })

  onProgress?.({ phase: 'signing and appending' })
  const signed = await registry.publish(record, key, { signal })
  const pins = [cid.toString(), ...(icon == null ? [] : [icon])]
  const heldBy = await waitForPeers(context, input, { records: [signed.id], pins })
  return {
    id: signed.id,
    appId,
    version,
    channel: input.channel,
    arch: draft.architecture,
    cid: cid.toString(),
    sha256,
    size,
    publisher: key.did,
    previous: previous?.id,
    derivedAppId: input.appId == null && draft.derivedAppId,
    icon,
    heldBy
  }
})

/**
 * With peers named (or a daemon connected to some), asks them until one holds the record and
 * keeps the content. A release that exists on this machine alone is one disk failure from gone.
 */
async function waitForPeers ({ services, signal, onProgress }: OperationContext, input: PublishInput, query: HoldsQuery): Promise<string[] | undefined> {
  const node = services.node
  const connected = (): string[] => [...new Set(node.libp2p.getConnections().map(c => c.remotePeer.toString()))]
  if ((input.peers ?? []).length === 0 && connected().length === 0) {
    return undefined
  }
  const deadline = Date.now() + (input.waitSeconds ?? 120) * 1000
  let best = 0
  while (true) {
    const peers = connected()
    const answers = await Promise.all(peers.map(async peer => {
      try {
        return { peer, answer: await askHolds(node.libp2p, peerIdFromString(peer), query, { signal: AbortSignal.any([signal, AbortSignal.timeout(5_000)]) }) }
      } catch {
        return { peer, answer: undefined }
      }
    }))
    const holders = answers.filter(a => a.answer != null && holdsAll(a.answer, query)).map(a => a.peer)
    if (holders.length > 0) {
      return holders
    }
    for (const { answer } of answers) {
      if (answer != null) best = Math.max(best, answer.records.filter(Boolean).length + answer.pins.filter(Boolean).length)
    }
    onProgress?.({ phase: `waiting for a peer to take the release (${peers.length} connected)`, done: best, total: query.records.length + query.pins.length, unit: 'items' })
    if (Date.now() > deadline) {
      throw new NotReplicatedError(`the release is published here, but no peer held it within ${input.waitSeconds ?? 120} s (is a mirror with --pin all connected?); run \`hubless daemon --peer …\` so peers can fetch it`)
    }
    await new Promise(resolve => setTimeout(resolve, 500))
    signal.throwIfAborted()
  }
}

async function hashFile (path: string, size: number, { signal, onProgress }: OperationContext): Promise<string> {
  const hash = createHash('sha256')
  let done = 0
  for await (const chunk of createReadStream(path, { signal })) {
    hash.update(chunk as Buffer)
    done += (chunk as Buffer).length
    onProgress?.({ phase: 'hashing', done, total: size })
  }
  return hash.digest('hex')
}
