/**
 * Oracle Cloud Infrastructure: `{"code", "message"}` bodies and the `opc-request-id` header.
 * Codes follow OCI's API Errors page.
 */
import * as z from 'zod/mini';
import type { RekeyError } from '#core/errors.ts';
import { DEFAULT_STATUS, type Dialect } from './dialect.ts';

const CODES: Record<RekeyError['kind'], string> = {
  InvalidInput: 'InvalidParameter',
  NotAuthenticated: 'NotAuthenticated',
  Forbidden: 'NotAuthorized',
  NotFound: 'NotAuthorizedOrNotFound',
  MethodNotAllowed: 'MethodNotAllowed',
  Conflict: 'Conflict',
  PreconditionFailed: 'PreconditionFailed',
  Throttled: 'TooManyRequests',
  Unavailable: 'InternalServerError',
};

/** Conflicts that clear by themselves (ConflictError reasons): OCI's `IncorrectState`. */
const TRANSIENT_CONFLICTS: ReadonlySet<string> = new Set(['RequestInProgress']);

/** InvalidInputError reasons of a body that could not be read: OCI's `CannotParseRequest`. */
const UNPARSED: ReadonlySet<string> = new Set(['MalformedJson', 'MalformedBody']);

export const oci: Dialect = {
  name: 'oci',
  internal: { status: 500, code: 'InternalServerError' },
  mapError(error) {
    if (error.kind === 'Unavailable') return { status: 500, code: 'InternalServerError' };
    // OCI's two 409s differ by whether waiting helps, and the OCI SDKs act on it: their default
    // retry policy retries 409 IncorrectState with backoff (oci-common's DefaultRetryCondition:
    // 8 attempts, about 95 s) and no other 409. A request still in progress under the same
    // opc-retry-token is IncorrectState: the SDK's retry is answered with the first request's
    // result. Everything else is Conflict, the kind's code, which the SDKs do not retry: a
    // federated user, a retry token used for another request, and a reset that lost to
    // another request's change of the user (a retry would undo that change: the core already
    // tries again when the user only moved by lock-out bookkeeping).
    if (error.kind === 'Conflict' && error.reason !== undefined && TRANSIENT_CONFLICTS.has(error.reason)) {
      return { status: 409, code: 'IncorrectState' };
    }
    if (error.kind === 'InvalidInput' && error.reason !== undefined) {
      if (error.reason === 'MissingParameter') return { status: 400, code: 'MissingParameter' };
      // A body that cannot be read (not JSON, not UTF-8, nested too deep): "incorrectly formatted".
      if (UNPARSED.has(error.reason)) return { status: 400, code: 'CannotParseRequest' };
    }
    return { status: DEFAULT_STATUS[error.kind], code: CODES[error.kind] };
  },
  errorBody: (mapping, message) => ({ code: mapping.code, message }),
  clientRequestIdHeader: 'opc-request-id',
  headers: (requestId, clientRequestId) => ({ 'opc-request-id': correlated(requestId, clientRequestId) }),
  successBody: (body) => body,
  contract: {
    errorBody: () =>
      z.strictObject({
        code: z.string().check(z.regex(/^[A-Za-z]+$/)),
        message: z.string(),
      }),
    requestIdHeader: 'opc-request-id',
    requestIdDescription:
      "rekey's request id; when the request carried its own `opc-request-id` in the shape OCI's SDKs generate " +
      '(a UUID, with or without its dashes), that id first: `{client id}/{request id}`, as OCI services answer.',
  },
};

/**
 * The client request ids kept: a UUID, with or without any of its dashes, in either case — what
 * OCI's SDKs generate (TypeScript: a v1 UUID upper-cased with its first dash removed, 35
 * characters; Python, Java, Go: 32 hex digits). Nothing a caller typed by hand: an id is echoed
 * back on every answer, refusals included, and a free-form one may hold a password (a
 * `Blue-Kettle-Orchard-42` sent there came back on change-password's 401).
 */
const CLIENT_REQUEST_ID = /^[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}$/;

/**
 * The response's `opc-request-id`: as OCI's services do, the client's own id first, then
 * ours (`{client id}/{request id}`), so client and server logs correlate. Only an id of the
 * SDKs' shape (CLIENT_REQUEST_ID) is kept; anything else is dropped, never echoed (nor
 * trimmed into shape).
 */
export function correlated(requestId: string, clientRequestId: string | undefined): string {
  if (clientRequestId === undefined || !CLIENT_REQUEST_ID.test(clientRequestId)) return requestId;
  return `${clientRequestId}/${requestId}`;
}
