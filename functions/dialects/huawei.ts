/**
 * Huawei Cloud: `{"error_code", "error_msg"}` bodies and the `X-Request-Id` header. Codes
 * take Huawei's `SERVICE.NNNN` shape; the numbers are rekey's own (see "Huawei error codes" in docs/decisions.md).
 */
import * as z from 'zod/mini';
import { DEFAULT_STATUS, type Dialect } from './dialect.ts';

const NUMBERS = {
  InvalidInput: '0011',
  NotAuthenticated: '0001',
  Forbidden: '0003',
  NotFound: '0004',
  MethodNotAllowed: '0005',
  Conflict: '0009',
  PreconditionFailed: '0012',
  Throttled: '0013',
  Unavailable: '0015',
} as const;

/** The Huawei dialect for one service prefix: `IAM` or `DDM`. */
export function huawei(service: 'IAM' | 'DDM'): Dialect {
  return {
    name: 'huawei',
    internal: { status: 500, code: `${service}.0500` },
    mapError: (error) => ({ status: DEFAULT_STATUS[error.kind], code: `${service}.${NUMBERS[error.kind]}` }),
    errorBody: (mapping, message) => ({ error_code: mapping.code, error_msg: message }),
    headers: (requestId) => ({ 'x-request-id': requestId }),
    successBody: (body) => body,
    contract: {
      errorBody: () =>
        z.strictObject({
          error_code: z.string().check(z.regex(new RegExp(`^${service}\\.\\d{4}$`))),
          error_msg: z.string(),
        }),
      requestIdHeader: 'x-request-id',
      requestIdDescription: "rekey's request id (Huawei's `X-Request-Id`).",
    },
  };
}
