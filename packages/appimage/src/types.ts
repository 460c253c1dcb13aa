/** Options every async call takes; the same shape as `AbortOptions` of `@libp2p/interface` */
export interface AbortOptions {
  signal?: AbortSignal
}
