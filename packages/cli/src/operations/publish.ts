import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { openAppImage, readAppImageMetadata } from '@hubless/appimage'
import { buildReleaseRecord, findPreviousRelease, IncompleteDraftError, isChannel, isHttpUrl } from '@hubless/registry'
import { UsageError } from '../errors.ts'
import { addAppImageContent, imageApp, imageVersion } from '@hubless/mirror'
import { defineOperation } from './operation.ts'
import { dialPeers, waitForHolders } from './hand-over.ts'
import type { HandOverInput } from './hand-over.ts'
import type { OperationContext } from './operation.ts'
import type { Channel } from '@hubless/registry'

export interface PublishInput extends HandOverInput {
  /** absolute path of the AppImage */
  file: string
  channel: string
  version?: string
  urls?: string[]
  /** override the app id the image declares (or that was derived) */
  appId?: string
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
  await dialPeers(context, input)

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
  const heldBy = await waitForHolders(context, input, { records: [signed.id], pins }, 'the release')
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
