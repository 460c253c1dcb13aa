/** A multiaddr given by the user or a config file does not parse. */
export class BadMultiaddrError extends Error {
  static override name = 'BadMultiaddrError'
  override name = 'BadMultiaddrError'
}

/** A CID string does not parse, or uses a codec or hash this node cannot handle. */
export class BadCidError extends Error {
  static override name = 'BadCidError'
  override name = 'BadCidError'
}

/** Another process (or another node in this process) holds the LevelDB lock of the data directory. */
export class DataDirLockedError extends Error {
  static override name = 'DataDirLockedError'
  override name = 'DataDirLockedError'
}

/** The data directory exists but its key or databases cannot be read. */
export class CorruptDataDirError extends Error {
  static override name = 'CorruptDataDirError'
  override name = 'CorruptDataDirError'
}

/** A dial to a peer failed (refused, timed out, wrong peer id, no common transport). */
export class PeerUnreachableError extends Error {
  static override name = 'PeerUnreachableError'
  override name = 'PeerUnreachableError'
}

/** No source (local store, peers, gateways) could deliver a block. `errors` holds what each source said. */
export class ContentNotFoundError extends Error {
  static override name = 'ContentNotFoundError'
  override name = 'ContentNotFoundError'
  readonly errors: Error[]

  constructor (message: string, errors: Error[] = []) {
    super(message)
    this.errors = errors
  }
}

/** Bytes received for a CID (from a CAR file or a peer) do not hash to that CID. */
export class BlockVerificationError extends Error {
  static override name = 'BlockVerificationError'
  override name = 'BlockVerificationError'
}

/** An HTTP gateway returned bytes that do not hash to the CID that was asked for. */
export class GatewayVerificationError extends Error {
  static override name = 'GatewayVerificationError'
  override name = 'GatewayVerificationError'
  readonly gateway: string

  constructor (message: string, gateway: string) {
    super(message)
    this.gateway = gateway
  }
}

/** An HTTP gateway could not be reached or answered with an error status. */
export class GatewayRequestError extends Error {
  static override name = 'GatewayRequestError'
  override name = 'GatewayRequestError'
  readonly gateway: string
  readonly status?: number

  constructor (message: string, gateway: string, status?: number) {
    super(message)
    this.gateway = gateway
    this.status = status
  }
}

/** A DAG being fetched adds up to more bytes than the caller's `maxBytes`; the fetch stopped there. */
export class ContentTooLargeError extends Error {
  static override name = 'ContentTooLargeError'
  override name = 'ContentTooLargeError'
  readonly maxBytes: number

  constructor (message: string, maxBytes: number) {
    super(message)
    this.maxBytes = maxBytes
  }
}

/** A gateway URL given in the configuration is not an http(s) URL. */
export class BadGatewayUrlError extends Error {
  static override name = 'BadGatewayUrlError'
  override name = 'BadGatewayUrlError'
}

/** A CAR stream is malformed. */
export class BadCarError extends Error {
  static override name = 'BadCarError'
  override name = 'BadCarError'
}

/** The file given to `content.add` cannot be read. */
export class FileReadError extends Error {
  static override name = 'FileReadError'
  override name = 'FileReadError'
}

/** The node's listen addresses could not be bound (port in use, address not on this host). */
export class ListenError extends Error {
  static override name = 'ListenError'
  override name = 'ListenError'
}

/** A block could not be written to the data directory (disk full, no permission, I/O error). */
export class BlockWriteError extends Error {
  static override name = 'BlockWriteError'
  override name = 'BlockWriteError'
}

/**
 * A gateway does not answer byte ranges of a file (`GET /ipfs/{cid}` with `Range`): it sent the
 * whole file (200), or refused the request (a trustless-only gateway's 406). Its blocks are then
 * asked for one by one.
 */
export class RangesNotSupportedError extends Error {
  static override name = 'RangesNotSupportedError'
  override name = 'RangesNotSupportedError'
  readonly gateway: string
  readonly status: number

  constructor (message: string, gateway: string, status: number) {
    super(message)
    this.gateway = gateway
    this.status = status
  }
}

/**
 * A gateway's answer to a byte-range request is malformed (a multipart body that breaks its own
 * framing, a part head too long, a Content-Range for another file) or larger than what was asked.
 */
export class BadRangeAnswerError extends Error {
  static override name = 'BadRangeAnswerError'
  override name = 'BadRangeAnswerError'
  readonly gateway: string

  constructor (message: string, gateway: string) {
    super(message)
    this.gateway = gateway
  }
}

/** A DAG fetched as a UnixFS file is not one (another codec or UnixFS type, sizes that do not add up). */
export class BadDagError extends Error {
  static override name = 'BadDagError'
  override name = 'BadDagError'
}

/** A content-defined DAG layout was asked for with odds or children bounds it cannot build with. */
export class BadLayoutParametersError extends Error {
  static override name = 'BadLayoutParametersError'
  override name = 'BadLayoutParametersError'
}
