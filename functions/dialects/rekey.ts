/**
 * rekey's own dialect, for the routes no vendor defines (the ticket intake): `{"code",
 * "message", "requestId"}` bodies, codes `<Kind>` or `<Kind>.<Reason>`, the request id in
 * `x-request-id`.
 */
import * as z from 'zod/mini';
import { DEFAULT_STATUS, type Dialect } from './dialect.ts';

/** Reasons fit for a code: rekey's own words (a plain identifier), never the caller's text. */
const REASON = /^[A-Za-z][A-Za-z0-9]{0,47}$/;

export const rekeyDialect: Dialect = {
  name: 'rekey',
  internal: { status: 500, code: 'InternalError' },
  mapError: (error) => ({
    status: DEFAULT_STATUS[error.kind],
    code: error.reason && REASON.test(error.reason) ? `${error.kind}.${error.reason}` : error.kind,
  }),
  errorBody: (mapping, message, requestId) => ({ code: mapping.code, message, requestId }),
  headers: (requestId) => ({ 'x-request-id': requestId }),
  successBody: (body) => body,
  contract: {
    errorBody: () =>
      z.strictObject({
        code: z.string().check(z.regex(/^[A-Za-z]+(\.[A-Za-z][A-Za-z0-9]*)?$/)),
        message: z.string(),
        requestId: z.string(),
      }),
    requestIdHeader: 'x-request-id',
    requestIdDescription: "rekey's request id, also in the error body's `requestId`.",
  },
};
