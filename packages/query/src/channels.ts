import type { Channel } from '@hubless/registry/records'

/** The ladder from most to least stable; a reader of one rung sees every rung below it */
export const CHANNEL_LADDER: readonly Channel[] = ['release', 'beta', 'alpha', 'nightly', 'continuous']

const RUNG = new Map<string, number>(CHANNEL_LADDER.map((channel, i) => [channel, i]))

export function isChannel (value: unknown): value is Channel {
  return typeof value === 'string' && RUNG.has(value)
}

/** Whether a reader following `reader` sees releases published on `published` */
export function channelVisible (reader: Channel, published: Channel): boolean {
  return (RUNG.get(published) ?? Number.POSITIVE_INFINITY) <= (RUNG.get(reader) ?? -1)
}

/** The channels a reader of `reader` sees, most stable first */
export function visibleChannels (reader: Channel): Channel[] {
  return CHANNEL_LADDER.slice(0, (RUNG.get(reader) ?? 0) + 1)
}
