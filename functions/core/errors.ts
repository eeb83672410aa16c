/**
 * Domain errors. Each is *exposed*: its message is written for the caller and never holds a
 * password. Dialects map `kind` (and `reason`) to their own status codes and error bodies;
 * anything that is not a RekeyError becomes a generic 500.
 */

export type ErrorKind =
  | 'InvalidInput'
  | 'NotAuthenticated'
  | 'Forbidden'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'Conflict'
  | 'PreconditionFailed'
  | 'Throttled'
  | 'Unavailable';

/** The user a refusal is about, as the directory knows it (never as the caller typed it). */
export interface ErrorSubject {
  realmId: string;
  userId: string;
  username?: string | undefined;
}

export abstract class RekeyError extends Error {
  abstract readonly kind: ErrorKind;
  /** A finer cause a dialect may turn into its own error code. */
  readonly reason: string | undefined;
  /**
   * Whom the refusal is about, when the core found the user: for the audit trail only. No
   * dialect reads it, so it never reaches a response, and a caller cannot tell from the answer
   * whether it was set (an unknown user and a wrong password get the same 401).
   */
  subject: ErrorSubject | undefined;

  constructor(message: string, options?: ErrorOptions & { reason?: string | undefined }) {
    super(message, options);
    this.name = new.target.name;
    this.reason = options?.reason;
  }
}

/** The request breaks a schema or a rule; `field` names the parameter in the caller's words. */
export class InvalidInputError extends RekeyError {
  readonly kind = 'InvalidInput';
  readonly field: string | undefined;
  constructor(
    message: string,
    options?: ErrorOptions & { reason?: string | undefined; field?: string | undefined },
  ) {
    super(message, options);
    this.field = options?.field;
  }
}

export class NotAuthenticatedError extends RekeyError {
  readonly kind = 'NotAuthenticated';
}

export class ForbiddenError extends RekeyError {
  readonly kind = 'Forbidden';
}

export type EntityName = 'User' | 'Realm' | 'Instance' | 'Route' | 'Connector';

export class NotFoundError extends RekeyError {
  readonly kind = 'NotFound';
  readonly entity: EntityName;
  constructor(entity: EntityName, message: string, options?: ErrorOptions) {
    super(message, { ...options, reason: entity });
    this.entity = entity;
  }
}

export class MethodNotAllowedError extends RekeyError {
  readonly kind = 'MethodNotAllowed';
}

/**
 * The request is valid but the directory's state refuses it. Reasons: `Federated`,
 * `RetryTokenReuse`, `RequestInProgress`, `ConcurrentUpdate`, `PasswordReuse`, `SSOEnabled`,
 * `AdminNameMismatch`.
 */
export class ConflictError extends RekeyError {
  readonly kind = 'Conflict';
}

export class PreconditionFailedError extends RekeyError {
  readonly kind = 'PreconditionFailed';
}

export class ThrottledError extends RekeyError {
  readonly kind = 'Throttled';
}

/** A dependency (table, vault, notifier) failed; the caller may retry. */
export class UnavailableError extends RekeyError {
  readonly kind = 'Unavailable';
}

/** The conditional write lost: someone else changed the record since it was read. */
export class VersionConflictError extends Error {
  constructor(message = 'the record changed since it was read', options?: ErrorOptions) {
    super(message, options);
    this.name = 'VersionConflictError';
  }
}

/** A secret that does not exist, or was deleted. */
export class SecretNotFoundError extends Error {
  constructor(secretId: string, options?: ErrorOptions) {
    super(`secret ${secretId} does not exist or was deleted`, options);
    this.name = 'SecretNotFoundError';
  }
}

/**
 * Runs `work` on behalf of `subject`, once the directory has found it: a refusal thrown inside
 * names it in the audit trail (as the directory knows it, never as the caller typed it).
 */
export async function aboutSubject<T>(subject: ErrorSubject, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof RekeyError) error.subject ??= subject;
    throw error;
  }
}
