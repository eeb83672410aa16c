/**
 * The middy pipeline every HTTP route shares: Lambda context for the logger, the query-string
 * gate, the handler, and one error boundary that speaks the route's dialect. Exposed (domain)
 * errors become the dialect's 4xx/5xx body; anything else becomes a generic 500 that reveals
 * nothing.
 */
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { type Logger, lambdaContextLogging } from '#adapters/logger.ts';
import { RekeyError } from '#core/errors.ts';
import { type Dialect, jsonResponse } from '#dialects/dialect.ts';
import { type HttpEvent, header, refuseUnknownQueryParameters, requestIdOf } from './request.ts';

export type HttpResult = APIGatewayProxyStructuredResultV2;

export interface HttpReply {
  status?: number;
  /** The success body, before the dialect adds its request id (Alibaba). */
  body?: object;
  /** A body sent as it is instead (a page, a script, a style): `headers` names its content-type. */
  text?: string;
  headers?: Record<string, string>;
}

export interface HttpRequest {
  event: HttpEvent;
  context: Context;
  requestId: string;
}

export interface HttpRouteOptions {
  dialect: Dialect;
  logger: Logger;
  /**
   * The query parameters the route defines; none when left out. Any other parameter is a 400
   * in the dialect before the route's logic runs (so before its token is even looked at):
   * a route cannot silently ignore a query it never reads.
   */
  query?: readonly string[];
}

/** Wraps a route's logic in the shared pipeline. */
export function httpHandler(options: HttpRouteOptions, handle: (request: HttpRequest) => Promise<HttpReply>) {
  const { dialect, logger } = options;
  const acceptedQuery = options.query ?? [];
  // The logger has no way to log the event: bodies and query strings carry passwords.
  return middy<HttpEvent, HttpResult>()
    .use(lambdaContextLogging<HttpEvent, HttpResult>(logger))
    .use(dialectErrors(options))
    .handler(async (event, context) => {
      refuseUnknownQueryParameters(event, acceptedQuery);
      const requestId = requestIdOf(event);
      const reply = await handle({ event, context, requestId });
      const status = reply.status ?? 200;
      logger.info('request served', { routeKey: event.routeKey, status, requestId });
      const headers = { ...dialect.headers(requestId, clientRequestIdOf(event, dialect)), ...reply.headers };
      if (reply.text !== undefined) {
        return { ...jsonResponse(status, undefined, headers), body: reply.text };
      }
      const body = reply.body === undefined ? undefined : dialect.successBody(reply.body, requestId);
      return jsonResponse(status, body, headers);
    });
}

/** The error boundary: the dialect's body for exposed errors, a bare 500 for the rest. */
export function dialectErrors({ dialect, logger }: HttpRouteOptions): MiddlewareObj<HttpEvent, HttpResult> {
  return {
    onError: (request) => {
      const error = request.error;
      const requestId = requestIdOf(request.event);
      const routeKey = request.event.routeKey;
      if (error instanceof RekeyError) {
        const mapping = dialect.mapError(error);
        const attributes = { routeKey, status: mapping.status, code: mapping.code, requestId };
        if (mapping.status >= 500) logger.error('request failed', { ...attributes, cause: causeName(error) });
        // A backing service throttling us is the operator's concern, not the caller's mistake.
        else if (error.kind === 'Throttled')
          logger.warn('request throttled', { ...attributes, cause: causeName(error) });
        else logger.info('request refused', attributes);
        request.response = jsonResponse(
          mapping.status,
          dialect.errorBody(mapping, error.message, requestId),
          dialect.headers(requestId, clientRequestIdOf(request.event, dialect)),
        );
        return;
      }
      logger.error('unexpected failure', { routeKey, requestId, error: causeName(error) });
      const mapping = dialect.internal;
      request.response = jsonResponse(
        mapping.status,
        dialect.errorBody(mapping, 'An internal error occurred; retry later.', requestId),
        dialect.headers(requestId, clientRequestIdOf(request.event, dialect)),
      );
    },
  };
}

/** The raw request id the caller sent where the dialect's vendor sends one (the dialect vets it). */
function clientRequestIdOf(event: HttpEvent, dialect: Dialect): string | undefined {
  return dialect.clientRequestIdHeader === undefined
    ? undefined
    : header(event, dialect.clientRequestIdHeader);
}

/** The names along an error's cause chain, for operators; never a message (it may hold input). */
function causeName(error: unknown): string {
  const names: string[] = [];
  let current: unknown = error;
  while (current instanceof Error && names.length < 4) {
    names.push(current.name);
    current = current.cause;
  }
  return names.join(' <- ') || typeof error;
}
