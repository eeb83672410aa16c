/**
 * Alibaba Cloud: `{"RequestId", "Code", "Message"}` bodies, the request id inside every body,
 * success or error, and in the `x-acs-request-id` header. Codes follow Alibaba's
 * `Kind.Detail` style.
 */
import * as z from 'zod/mini';
import { InvalidInputError, type RekeyError } from '#core/errors.ts';
import { DEFAULT_STATUS, type Dialect } from './dialect.ts';

const CODES: Record<RekeyError['kind'], string> = {
  InvalidInput: 'InvalidParameter',
  NotAuthenticated: 'InvalidSecurityToken',
  Forbidden: 'NoPermission',
  NotFound: 'EntityNotExists',
  MethodNotAllowed: 'UnsupportedHTTPMethod',
  Conflict: 'OperationConflict',
  PreconditionFailed: 'OperationFailed',
  // Backend throttling (DynamoDB, Secrets Manager), not the caller's own flow control (.User).
  Throttled: 'Throttling',
  Unavailable: 'ServiceUnavailable',
};

export const alibaba: Dialect = {
  name: 'alibaba',
  internal: { status: 500, code: 'InternalError' },
  mapError(error) {
    // A missing parameter is its own family of Alibaba codes: MissingParameter.UserId.
    if (error instanceof InvalidInputError && error.reason === 'MissingParameter') {
      return { status: 400, code: error.field ? `MissingParameter.${error.field}` : 'MissingParameter' };
    }
    // An Action or Version rekey does not serve: what Alibaba answers for an API it lacks.
    if (error.kind === 'NotFound' && error.reason === 'Route') {
      return { status: 404, code: 'InvalidAction.NotFound' };
    }
    const base = CODES[error.kind];
    // A reason refines the code: InvalidParameter.Password, EntityNotExists.User, ... — one
    // that only repeats it does not (InvalidParameter, not InvalidParameter.InvalidParameter).
    const refined = error.reason && error.reason !== base && error.kind !== 'Throttled';
    const code = refined ? `${base}.${error.reason}` : base;
    return { status: DEFAULT_STATUS[error.kind], code };
  },
  errorBody: (mapping, message, requestId) => ({
    RequestId: requestId,
    Code: mapping.code,
    Message: message,
  }),
  headers: (requestId) => ({ 'x-acs-request-id': requestId }),
  successBody: (body, requestId) => ({ RequestId: requestId, ...body }),
  contract: {
    errorBody: () =>
      z.strictObject({
        RequestId: z.string(),
        Code: z.string().check(z.regex(/^[A-Za-z]+(\.[A-Za-z]+)*$/)),
        Message: z.string(),
      }),
    requestIdHeader: 'x-acs-request-id',
    requestIdDescription:
      "rekey's request id, the same as the body's `RequestId` (Alibaba's `x-acs-request-id`).",
  },
};
