/**
 * Every error @hubless/query throws, each with a stable `name` that callers and tests match on.
 */

/** The saved index could not be read: wrong format, version, or damaged. Rebuild it from the record source */
export class InvalidSavedIndexError extends Error {
  static override name = 'InvalidSavedIndexError'
  override name = 'InvalidSavedIndexError'
}

/**
 * A search or browse option is out of range or of the wrong type (see `SEARCH_LIMITS`);
 * `parameter` names it (`query`, `limit`, `pageSize`, `channel`…) when one option is to blame
 */
export class InvalidQueryError extends Error {
  static override name = 'InvalidQueryError'
  override name = 'InvalidQueryError'
  readonly parameter?: string

  constructor (message?: string, options?: ErrorOptions & { parameter?: string }) {
    super(message, options)
    if (options?.parameter != null) this.parameter = options.parameter
  }
}

/** A record handed to the catalog does not have the shape of a signed hubless record */
export class InvalidRecordError extends Error {
  static override name = 'InvalidRecordError'
  override name = 'InvalidRecordError'
}

/** A trust root is not a did:key string */
export class InvalidTrustRootError extends Error {
  static override name = 'InvalidTrustRootError'
  override name = 'InvalidTrustRootError'
}

/** The trust policy is out of range (maxDepth) */
export class InvalidTrustPolicyError extends Error {
  static override name = 'InvalidTrustPolicyError'
  override name = 'InvalidTrustPolicyError'
}

/** The catalog was stopped; create a new one */
export class CatalogStoppedError extends Error {
  static override name = 'CatalogStoppedError'
  override name = 'CatalogStoppedError'
}

/** The catalog follows a source already (`follow`); a catalog follows one */
export class CatalogSourceError extends Error {
  static override name = 'CatalogSourceError'
  override name = 'CatalogSourceError'
}

/** The operation was aborted through its signal */
export class AbortError extends Error {
  static override name = 'AbortError'
  override name = 'AbortError'
}

/** A heads announcement is signed by a key that is not one of the reader's trusted mirrors */
export class UntrustedMirrorError extends Error {
  static override name = 'UntrustedMirrorError'
  override name = 'UntrustedMirrorError'
}

/** A mirror's record feed could not be read: a bad URL, the mirror unreachable, or not a hubless mirror */
export class HttpSourceError extends Error {
  static override name = 'HttpSourceError'
  override name = 'HttpSourceError'
}
