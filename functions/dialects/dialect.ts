/**
 * A dialect is one vendor's wire conventions: where the request id goes, what an error body
 * looks like, and which status code each domain error gets.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type * as z from 'zod/mini';
import type { ErrorKind, RekeyError } from '#core/errors.ts';

export type DialectName = 'oci' | 'huawei' | 'alibaba' | 'rekey';

export interface ErrorMapping {
  status: number;
  code: string;
}

export interface Dialect {
  name: DialectName;
  /** What an unexpected failure becomes: a generic 500 that reveals nothing. */
  internal: ErrorMapping;
  /** Status and vendor error code for a domain error. */
  mapError(error: RekeyError): ErrorMapping;
  /** The error body in the vendor's shape. */
  errorBody(mapping: ErrorMapping, message: string, requestId: string): Record<string, string>;
  /**
   * The request header in which the vendor's clients send their own request id (OCI:
   * `opc-request-id`), when the vendor's services answer with it; read by the shared pipeline.
   */
  clientRequestIdHeader?: string;
  /**
   * Headers every response of this dialect carries (the request id, where the vendor puts it).
   * `clientRequestId` is the raw value of `clientRequestIdHeader`, if the request had one: the
   * dialect decides what of it, if anything, is safe to send back.
   */
  headers(requestId: string, clientRequestId?: string): Record<string, string>;
  /** A body's success payload, with the request id where the vendor puts it. */
  successBody<T extends object>(body: T, requestId: string): T | (T & { RequestId: string });
  /**
   * The wire shapes above as the OpenAPI document states them (functions/http/openapi.ts):
   * the schema of `errorBody`'s result and the header `headers` sets. The integration suite
   * checks every response against the document, so these cannot drift from the functions.
   */
  contract: DialectContract;
}

export interface DialectContract {
  /**
   * What `errorBody` returns, strictly. Built when asked (by the document and the tests): a
   * schema in a dialect's object would be built at every cold start of every function that
   * speaks it, which never validates its own error bodies (docs/decisions.md, "Cold start,
   * fifth pass").
   */
  errorBody(): z.ZodMiniType;
  /** The response header carrying the request id, as `headers` names it (lower case). */
  requestIdHeader: string;
  /** What the header holds. */
  requestIdDescription: string;
}

/** Every kind has a status; a dialect overrides codes (and the odd status) in its own words. */
export const DEFAULT_STATUS: Record<ErrorKind, number> = {
  InvalidInput: 400,
  NotAuthenticated: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  Conflict: 409,
  PreconditionFailed: 412,
  Throttled: 429,
  Unavailable: 503,
};

/** Builds a JSON response. Every response is uncacheable: these routes move credentials. */
export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string>,
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: body === undefined ? '' : JSON.stringify(body),
  };
}
