/**
 * The middy pipeline every HTTP route shares: Lambda context for the logger, the query-string
 * gate, the handler, and one error boundary that speaks the route's dialect. Exposed (domain)
 * errors become the dialect's 4xx/5xx body; anything else becomes a generic 500 that reveals
 * nothing.
 *
 * It is also where a password operation is observed (issue 14): a route that passes `observe`
 * gets, for every request, success or refusal, one audit record (functions/adapters/audit.ts)
 * and its metrics (functions/adapters/metrics.ts), flushed once at the end of the invocation.
 * The route only notes, once it has parsed them, whom the request is about (`request.note`).
 */
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { AuditActivity, AuditActor, AuditOutcome, AuditSuccess, AuditTrail } from '#adapters/audit.ts';
import { type Logger, lambdaContextLogging } from '#adapters/logger.ts';
import type { RekeyMetrics } from '#adapters/metrics.ts';
import { RekeyError } from '#core/errors.ts';
import { type Dialect, type ErrorMapping, jsonResponse } from '#dialects/dialect.ts';
import { METRIC } from '#functions/contracts.ts';
import { adminPrincipal } from './admin.ts';
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
  /** What the audit record of this request says about whom it is on (observed routes). */
  note: AuditNote;
}

/**
 * Filled by a route as it learns it, from parsed and validated input only: the record of a
 * request refused before that point says only what was known.
 */
export interface AuditNote {
  target: { realmId?: string; userId?: string; username?: string };
  /** What a success was, when the route's default (`observe.success`) depends on the request. */
  success?: AuditSuccess;
}

/** How a password route is observed: audited and counted. */
export interface HttpObserve {
  audit: AuditTrail;
  metrics: RekeyMetrics;
  /** The route's operation (its folder in functions/, as in the route table). */
  operation: string;
  /** OCSF's Password Change (the user themselves) or Password Reset (an admin, for a user). */
  activity: AuditActivity;
  /** `admin`: the verified token's subject acts; `self`: the user proving the password. */
  actor: 'admin' | 'self';
  /** What a success is, unless the route notes otherwise. */
  success: AuditSuccess;
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
  /** Password routes: audit and count every request (see the module's comment). */
  observe?: HttpObserve;
}

/** The `observe` option of a password route, over its runtime's audit trail and metrics. */
export function observing(
  runtime: { audit: AuditTrail; metrics: RekeyMetrics },
  route: Omit<HttpObserve, 'audit' | 'metrics'>,
): HttpObserve {
  return { audit: runtime.audit, metrics: runtime.metrics, ...route };
}

/** Wraps a route's logic in the shared pipeline. */
export function httpHandler(options: HttpRouteOptions, handle: (request: HttpRequest) => Promise<HttpReply>) {
  const { dialect, logger } = options;
  const acceptedQuery = options.query ?? [];
  const notes = new WeakMap<HttpEvent, AuditNote>();
  // The logger has no way to log the event: bodies and query strings carry passwords.
  return middy<HttpEvent, HttpResult>()
    .use(lambdaContextLogging<HttpEvent, HttpResult>(logger))
    .use(dialectErrors(options, notes))
    .handler(async (event, context) => {
      const note: AuditNote = { target: {} };
      notes.set(event, note);
      refuseUnknownQueryParameters(event, acceptedQuery);
      const requestId = requestIdOf(event);
      const reply = await handle({ event, context, requestId, note });
      const status = reply.status ?? 200;
      logger.info('request served', { routeKey: event.routeKey, status, requestId });
      if (options.observe) {
        const success = note.success ?? options.observe.success;
        await observed(options.observe, event, note, { ok: true, result: success });
      }
      const headers = { ...dialect.headers(requestId, clientRequestIdOf(event, dialect)), ...reply.headers };
      if (reply.text !== undefined) {
        return { ...jsonResponse(status, undefined, headers), body: reply.text };
      }
      const body = reply.body === undefined ? undefined : dialect.successBody(reply.body, requestId);
      return jsonResponse(status, body, headers);
    });
}

/**
 * The error boundary: the dialect's body for exposed errors, a bare 500 for the rest; an
 * observed route's refusal or failure is audited and counted here.
 */
export function dialectErrors(
  { dialect, logger, observe }: HttpRouteOptions,
  notes?: WeakMap<HttpEvent, AuditNote>,
): MiddlewareObj<HttpEvent, HttpResult> {
  const record = async (event: HttpEvent, mapping: ErrorMapping, error: unknown) => {
    if (!observe) return;
    const reason = error instanceof RekeyError ? error.reason : undefined;
    const cause = error instanceof RekeyError ? error.kind : 'Unexpected';
    await observed(
      observe,
      event,
      notes?.get(event) ?? { target: {} },
      { ok: false, refused: mapping.status < 500, code: mapping.code, reason, status: mapping.status },
      cause,
    );
  };
  return {
    onError: async (request) => {
      const error = request.error;
      const requestId = requestIdOf(request.event);
      const routeKey = request.event.routeKey;
      if (error instanceof RekeyError) {
        const mapping = dialect.mapError(error);
        await record(request.event, mapping, error);
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
      await record(request.event, mapping, error);
      request.response = jsonResponse(
        mapping.status,
        dialect.errorBody(mapping, 'An internal error occurred; retry later.', requestId),
        dialect.headers(requestId, clientRequestIdOf(request.event, dialect)),
      );
    },
  };
}

/**
 * Audits one request and counts it, then flushes the invocation's metrics (the lock-outs and
 * notifications counted on the way included).
 */
async function observed(
  observe: HttpObserve,
  event: HttpEvent,
  note: AuditNote,
  outcome: AuditOutcome,
  cause?: string,
): Promise<void> {
  const { metrics, operation } = observe;
  if (outcome.ok) metrics.count(outcome.result, { operation });
  else if (outcome.refused) metrics.count(METRIC.refused, { operation, code: outcome.code });
  else metrics.count(METRIC.failed, { operation, cause: cause ?? 'Unexpected' });
  try {
    await observe.audit.record({
      operation,
      activity: observe.activity,
      requestId: requestIdOf(event),
      actor: observe.actor === 'self' ? { kind: 'self' } : adminActor(event),
      target: note.target,
      origin: {
        kind: 'http',
        route: event.routeKey ?? '',
        sourceIp: event.requestContext?.http?.sourceIp,
      },
      outcome,
      time: new Date(),
    });
  } finally {
    metrics.flush();
  }
}

/** The verified admin, or nobody known when the token was missing or refused. */
function adminActor(event: HttpEvent): AuditActor {
  try {
    const { subject, realmId } = adminPrincipal(event);
    return { kind: 'admin', subject, realmId };
  } catch {
    return { kind: 'unauthenticated' };
  }
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
