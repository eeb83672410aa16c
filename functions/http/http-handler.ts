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
 * A route whose success is not itself a password operation (the ticket intake: the worker
 * resets, and audits that) passes no `success`: only its refusals and failures are observed.
 */
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type {
  AuditActivity,
  AuditActor,
  AuditOrigin,
  AuditOutcome,
  AuditSuccess,
  AuditTrail,
} from '#adapters/audit.ts';
import { type Logger, lambdaContextLogging } from '#adapters/logger.ts';
import type { RekeyMetrics } from '#adapters/metrics.ts';
import { MethodNotAllowedError, RekeyError } from '#core/errors.ts';
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
  target: { realmId?: string; userId?: string; username?: string | undefined };
  /** What a success was, when the route's default (`observe.success`) depends on the request. */
  success?: AuditSuccess;
  /**
   * Ticket routes (`actor: 'ticket'`): the connector, once the route knows it exists, and
   * whether the sender proved it is that connector; the ticket id once the body is read.
   */
  ticket?: { connector?: string; ticketId?: string; verified?: boolean };
  /**
   * A refusal the route answers with a success status (the ticket intake answers an unknown
   * user with 202 and a failed result on the ticket): audited and counted as refused, with
   * this code (the ticket's) and rekey's reason word.
   */
  refused?: { code: string; reason?: string };
  /**
   * The route answered a repeated request with its first answer (an OCI retry token): audited
   * as a replay, and not counted as one more operation.
   */
  replayed?: boolean;
}

/** How a password route is observed: audited and counted. */
export interface HttpObserve {
  audit: AuditTrail;
  metrics: RekeyMetrics;
  /** The route's operation (its folder in functions/, as in the route table). */
  operation: string;
  /** OCSF's Password Change (the user themselves) or Password Reset (an admin, for a user). */
  activity: AuditActivity;
  /**
   * `admin`: the verified token's subject acts; `self`: the user proving the password;
   * `ticket`: a ticketing system through its connector (`note.ticket`), once verified.
   */
  actor: 'admin' | 'self' | 'ticket';
  /**
   * What a success is, unless the route notes otherwise. None: a success is not the password
   * operation itself (the ticket intake), so it is neither audited nor counted.
   */
  success?: AuditSuccess;
}

export interface HttpRouteOptions {
  dialect: Dialect;
  logger: Logger;
  /**
   * The query parameters the route defines (a function of the event for a function serving
   * several paths); none when left out. Any other parameter is a 400
   * in the dialect before the route's logic runs (so before its token is even looked at):
   * a route cannot silently ignore a query it never reads.
   */
  query?: readonly string[] | ((event: HttpEvent) => readonly string[]);
  /**
   * A route that receives every method on its path (the row's `answersOtherMethods`): the one
   * it serves. Any other is a 405 in the dialect, before the query gate and the route's logic.
   */
  method?: string;
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
  const { query = [] } = options;
  const acceptedQuery = typeof query === 'function' ? query : () => query;
  const notes = new WeakMap<HttpEvent, AuditNote>();
  // The logger has no way to log the event: bodies and query strings carry passwords.
  return middy<HttpEvent, HttpResult>()
    .use(lambdaContextLogging<HttpEvent, HttpResult>(logger))
    .use(dialectErrors(options, notes))
    .handler(async (event, context) => {
      const note: AuditNote = { target: {} };
      notes.set(event, note);
      if (options.method !== undefined && event.requestContext?.http?.method !== options.method) {
        // The method sent is not named: a refusal never repeats what the caller sent.
        throw new MethodNotAllowedError(`Only the method ${options.method} is allowed here.`);
      }
      refuseUnknownQueryParameters(event, acceptedQuery(event));
      const requestId = requestIdOf(event);
      const reply = await handle({ event, context, requestId, note });
      const status = reply.status ?? 200;
      logger.info('request served', { routeKey: event.routeKey, status, requestId });
      if (options.observe) {
        const success = note.success ?? options.observe.success;
        if (note.refused) {
          const { code, reason } = note.refused;
          await observed(options.observe, event, note, { ok: false, refused: true, code, reason, status });
        } else if (success) {
          await observed(options.observe, event, note, { ok: true, result: success });
        }
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
    const note = notes?.get(event) ?? { target: {} };
    // The user the core found, when it found one, as the directory knows them.
    if (error instanceof RekeyError && error.subject) note.target = { ...note.target, ...error.subject };
    await observed(
      observe,
      event,
      note,
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
  // A replay ran nothing: the first request was counted.
  if (!note.replayed) {
    if (outcome.ok) metrics.count(outcome.result, { operation });
    else if (outcome.refused) metrics.count(METRIC.refused, { operation, code: outcome.code });
    else metrics.count(METRIC.failed, { operation, cause: cause ?? 'Unexpected' });
  }
  try {
    await observe.audit.record({
      operation,
      activity: observe.activity,
      requestId: requestIdOf(event),
      actor: actorOf(observe, event, note),
      target: note.target,
      origin: originOf(observe, event, note),
      outcome,
      replayed: note.replayed,
      time: new Date(),
    });
  } finally {
    metrics.flush();
  }
}

/** Who acted, as far as the request proved it. */
function actorOf(observe: HttpObserve, event: HttpEvent, note: AuditNote): AuditActor {
  switch (observe.actor) {
    case 'self':
      return { kind: 'self' };
    case 'admin':
      return adminActor(event);
    case 'ticket': {
      const { connector, ticketId, verified } = note.ticket ?? {};
      // A sender that did not prove it is the connector is nobody known.
      return verified && connector !== undefined
        ? { kind: 'ticket', connector, ticketId }
        : { kind: 'unauthenticated' };
    }
  }
}

/** Where the request came in: the route, and for a ticket route the connector and ticket known. */
function originOf(observe: HttpObserve, event: HttpEvent, note: AuditNote): AuditOrigin {
  const route = event.routeKey ?? '';
  const sourceIp = event.requestContext?.http?.sourceIp;
  if (observe.actor !== 'ticket') return { kind: 'http', route, sourceIp };
  const { connector, ticketId, verified } = note.ticket ?? {};
  // The ticket id is the caller's word until the sender is verified.
  return { kind: 'ticket', connector, ticketId: verified ? ticketId : undefined, route, sourceIp };
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
