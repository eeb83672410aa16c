/**
 * Oracle Cloud Infrastructure: `{"code", "message"}` bodies and the `opc-request-id` header.
 * Codes follow OCI's API Errors page.
 */
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

export const oci: Dialect = {
  name: 'oci',
  internal: { status: 500, code: 'InternalServerError' },
  mapError(error) {
    if (error.kind === 'Unavailable') return { status: 500, code: 'InternalServerError' };
    if (error.kind === 'Conflict' && error.reason === 'Federated')
      return { status: 409, code: 'IncorrectState' };
    if (error.kind === 'Conflict' && error.reason === 'RetryTokenReuse') {
      return { status: 409, code: 'IdempotencyConflict' };
    }
    if (error.kind === 'InvalidInput' && error.reason === 'MissingParameter') {
      return { status: 400, code: 'MissingParameter' };
    }
    return { status: DEFAULT_STATUS[error.kind], code: CODES[error.kind] };
  },
  errorBody: (mapping, message) => ({ code: mapping.code, message }),
  headers: (requestId) => ({ 'opc-request-id': requestId }),
  successBody: (body) => body,
};
