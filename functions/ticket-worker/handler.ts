/**
 * Lambda entry point of the ticket worker: drains the queue the `PasswordResetRequested`
 * rule feeds, in batches. Each message → (once per ticket and operation) use case → a result
 * event on the bus. Poison messages and failures worth retrying are reported as batch item
 * failures, so SQS delivers them again and finally moves them to the dead-letter queue.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { AuditOutcome } from '#adapters/audit.ts';
import { createAwsNotifier } from '#adapters/aws-notifier.ts';
import { ConnectorStore } from '#adapters/connector-store.ts';
import { createEventBridge, EventBridgeResultPublisher } from '#adapters/eventbridge-publisher.ts';
import { IDEMPOTENCY_TTL_SECONDS, idempotent } from '#adapters/idempotency.ts';
import { createRuntime, type Runtime } from '#adapters/runtime.ts';
import { eventBusNameFromEnv } from '#adapters/settings.ts';
import {
  ConflictError,
  InvalidInputError,
  RekeyError,
  ThrottledError,
  UnavailableError,
} from '#core/errors.ts';
import {
  asRepeated,
  failedResult,
  isRefusal,
  type ResultPublisher,
  TICKET_MAX_RECEIVE_COUNT,
  TICKET_OPERATIONS,
  type Ticket,
  type TicketOperation,
  type TicketResult,
} from '#core/tickets.ts';
import { handleTicket, type ResetLines } from '#core/use-cases/handle-ticket.ts';
import { DETAIL_TYPES, METRIC, RESULT_SOURCE, TICKET_SCOPES } from '#functions/contracts.ts';
import { connectorIdOfSource } from '#functions/ticketing/connectors.ts';
import { safeName } from '#http/json.ts';
import { parseTicket, readEnvelope, type TicketEnvelope, ticketFingerprint } from './schema.ts';

/**
 * A ticket's reset is logged with the message its operation's HTTP route uses, so an
 * operator's search for one kind of reset finds it whoever asked (an admin or a ticket).
 */
const RESET_LINES: ResetLines = {
  CreateOrResetUIPassword: 'temporary UI password issued',
  ResetRandomPassword: 'random password reset',
  ResetUserPassword: 'CloudSSO password generated',
};

/** A message that is not an EventBridge event with a ticket id: nothing to answer, only to dead-letter. */
export class PoisonMessageError extends Error {
  constructor(messageId: string, what = 'is not a ticket event') {
    super(`message ${messageId} ${what}`);
    this.name = 'PoisonMessageError';
  }
}

/**
 * How long a ticket's reset is remembered: once per ticket means for as long as a ticket may
 * be open (and reopened), not a day — a ticket updated after 24 hours must not reset the user
 * again. A refusal (nothing was reset) is remembered a day, as a retry token is, so a ticket
 * sent again once its cause is fixed (the user created, the address added) runs.
 */
export const TICKET_RESET_KEPT_SECONDS = 400 * 24 * 3600;

/** failureCode's word for a reset whose notification failed: the password was reset. */
const NOTIFICATION_FAILED = 'Unavailable.NotificationFailed';

/** Whether a stored answer records a reset: done, or done and its notification failed. */
function resetHappened(answer: StoredAnswer): boolean {
  const { result } = answer;
  return (
    result.detailType === DETAIL_TYPES.completed ||
    ('code' in result.detail && result.detail.code === NOTIFICATION_FAILED)
  );
}

/** What the once-per-ticket record keeps: the result, and the bus event that asked for it. */
interface StoredAnswer {
  result: TicketResult;
  /** The EventBridge event id of the request that ran (absent in records older than it). */
  eventId?: string | undefined;
}

/** The answer to one delivery: its result, and whether it answers a repeated request. */
interface Answer {
  result: TicketResult;
  /** The stored answer of an earlier run of this ticket, nothing run now. */
  replayed: boolean;
  /**
   * A repeated request (another bus event for a ticket already answered): answered on the bus,
   * marked `repeated` and without its connector, so no reply rule posts it on the ticket — its
   * note is there already, and a ticketing rule that fires on every update of the ticket
   * (rekey's own note included) would otherwise loop. False for the first run and for a
   * redelivery of the same event (its earlier publish may have failed), answered as before.
   */
  repeated: boolean;
}

/** Whether two results say the same thing to the ticket: the same outcome and code. */
function sameAnswer(a: TicketResult, b: TicketResult): boolean {
  if (a.detailType !== b.detailType) return false;
  return 'code' in a.detail && 'code' in b.detail ? a.detail.code === b.detail.code : true;
}

/** A stored answer, also as records written before it kept the event id (the result alone). */
function storedAnswer(stored: StoredAnswer | TicketResult): StoredAnswer {
  return 'detailType' in stored ? { result: stored } : stored;
}

/**
 * Whether a stored answer was given to this very bus event (delivered again), rather than to
 * another request for its ticket. Answers stored without an event id count as this one's.
 */
function sameEvent(stored: StoredAnswer, eventId: string | undefined): boolean {
  return stored.eventId === undefined || eventId === undefined || stored.eventId === eventId;
}

/** The bus event id of a message, when it has one (every EventBridge event does). */
function eventIdOf(envelope: TicketEnvelope): string | undefined {
  const id = (envelope as { id?: unknown }).id;
  return typeof id === 'string' ? id : undefined;
}

interface TicketAttempt {
  key: string;
  fingerprint: string;
  ticket: Ticket;
  /** Fresh per attempt: it names the new secret, and a crashed attempt may have left one. */
  requestId: string;
  /** The bus event that asked: kept with the answer, to tell a redelivery from a repeat. */
  eventId: string | undefined;
}

/**
 * A result for the ticket in `envelope`, with the connector it came through (the intake's
 * `rekey.connector.{id}` source), so that connector's reply rule puts the note on the ticket.
 */
function answering(envelope: TicketEnvelope, result: TicketResult): TicketResult {
  const connectorId = connectorIdOfSource(envelope.source);
  if (connectorId === undefined) return result;
  return result.detailType === DETAIL_TYPES.completed
    ? { detailType: result.detailType, detail: { ...result.detail, connectorId } }
    : { detailType: result.detailType, detail: { ...result.detail, connectorId } };
}

/**
 * The refusals that come after the worker found the ticket's user in its realm (handleTicket:
 * SSO logon, federation, a channel the user has no address on, a notification that failed
 * after the reset). Any other refusal or failure may come before it looked (a reused ticket
 * id, the directory down, the user not found).
 */
const USER_FOUND_CODES: ReadonlySet<string> = new Set([
  'Conflict.SSOEnabled',
  'Conflict.Federated',
  'InvalidParameter.notificationType',
  NOTIFICATION_FAILED,
]);

/**
 * Whom a ticket's record is on: its realm and user only once the directory found the user in
 * that realm. A realm or user id it did not find is the sender's text, which may be anything (a
 * password in the wrong field), and stays out of the audit trail; the record still has the
 * ticket and its source. A connector's ticket names a user the intake found (it puts only those
 * on the bus, and only it may use a connector's source).
 */
function targetOf(ticket: Ticket, outcome: AuditOutcome): { realmId?: string; userId?: string } {
  const found = outcome.ok || (outcome.refused && USER_FOUND_CODES.has(outcome.code));
  if (found || connectorIdOfSource(ticket.source) !== undefined) {
    return { realmId: ticket.realmId, userId: ticket.userId };
  }
  return {};
}

/** Builds the SQS handler over a runtime and a publisher; tests pass fakes or the local bus. */
export function createHandler(runtime: Runtime, resultPublisher: ResultPublisher) {
  const { deps, logger, metrics } = runtime;
  const store = { client: runtime.dynamoDb, tableName: runtime.settings.tableName, keyName: 'ticketId' };
  const handleOnce = idempotent(
    async (attempt: TicketAttempt): Promise<StoredAnswer> => ({
      result: await handleTicket(deps, attempt.ticket, attempt.requestId, RESET_LINES),
      eventId: attempt.eventId,
    }),
    {
      ...store,
      scope: TICKET_SCOPES.ticket,
      keepFor: (answer) => (resetHappened(answer) ? TICKET_RESET_KEPT_SECONDS : IDEMPOTENCY_TTL_SECONDS),
      // A refused ticket corrected (another channel, another user) runs: nothing was reset.
      replaceable: (answer) => !resetHappened(storedAnswer(answer)),
    },
  );

  /**
   * A ticket id's reuse (the same ticket and operation sent again with other fields), refused
   * once per request that reused it: a second event for the same reuse is answered as a
   * repeat, with no note, so a ticketing rule that fires on rekey's own note cannot loop on it.
   */
  const refuseReuseOnce = idempotent(
    async (attempt: TicketAttempt & { refusal: TicketResult }): Promise<StoredAnswer> => ({
      result: attempt.refusal,
      eventId: attempt.eventId,
    }),
    { ...store, scope: TICKET_SCOPES.reuse },
  );

  /** Counts one delivery's outcome (a first run: a repeat is not counted again). */
  function count(operation: string, outcome: AuditOutcome, retried: boolean): void {
    if (outcome.ok) {
      metrics.count(METRIC.ticketCompleted, { operation });
      metrics.count(outcome.result, { operation });
    } else if (outcome.refused) {
      metrics.count(METRIC.ticketFailed, { operation });
      metrics.count(METRIC.refused, { operation, code: outcome.code });
    } else {
      // A reported failure (a notification) ends the ticket; a thrown one is retried by the queue.
      if (!retried) metrics.count(METRIC.ticketFailed, { operation });
      metrics.count(METRIC.failed, { operation, cause: outcome.code.split('.')[0] ?? outcome.code });
    }
  }

  /**
   * Audits one delivery of a ticket and counts it (issue 14): its result, or the failure
   * that leaves it to the queue. Whom it is on is known once the ticket has been parsed.
   */
  async function observe(
    envelope: TicketEnvelope,
    ticket: Ticket | undefined,
    outcome: AuditOutcome,
    /** `retried`: the queue delivers it again; `replayed`: a stored answer, nothing ran. */
    { retried = false, replayed = false }: { retried?: boolean; replayed?: boolean } = {},
  ) {
    const ticketId = safeName(envelope.detail.ticketId);
    const operation = ticket?.operation ?? operationNamed(envelope.detail.operation) ?? 'unknown';
    // A repeat ran nothing: the first run was counted.
    if (!replayed) count(operation, outcome, retried);
    await runtime.audit.record({
      operation,
      activity: 'reset',
      requestId: lastRequestId.get(envelope) ?? ticketId,
      // The connector id when the ticket came through the intake, else the event's source.
      actor: { kind: 'ticket', ticketId, connector: connectorOf(envelope) },
      target: ticket ? targetOf(ticket, outcome) : {},
      origin: { kind: 'ticket', ticketId },
      outcome,
      replayed,
      time: new Date(),
    });
  }
  const connectors = new ConnectorStore(runtime.dynamoDb, runtime.settings.tableName);

  /**
   * An event in a connector's name (the intake's `rekey.connector.{id}` source) must be one its
   * connector could have sent: the connector exists and the ticket names its realm. Anyone
   * else who may put events on the bus could otherwise reset users of another realm under the
   * connector's name and have the answer posted on the connector's tickets. Such an event is
   * poison: nothing is reset, nothing is answered, the dead-letter queue's alarm speaks.
   */
  async function assertSentByItsConnector(envelope: TicketEnvelope, messageId: string): Promise<void> {
    // rekey's own names, in any case (`Rekey.connector.x` would otherwise pass for a direct
    // source and be audited as if a connector had acted): only the intake's exact prefix.
    const source = envelope.source.toLowerCase();
    if (source !== RESULT_SOURCE && !source.startsWith(`${RESULT_SOURCE}.`)) return;
    const connectorId = connectorIdOfSource(envelope.source);
    const connector = connectorId === undefined ? undefined : await connectors.get(connectorId);
    if (connector && connector.realmId === envelope.detail.realmId) return;
    logger.error("poison message: a ticket in a connector's name that the connector could not have sent", {
      messageId,
      connectorId: connector ? connectorId : null,
    });
    throw new PoisonMessageError(messageId, 'does not match the connector it names');
  }
  const lastRequestId = new WeakMap<TicketEnvelope, string>();
  const parsedTickets = new WeakMap<TicketEnvelope, Ticket>();

  /** The answer to a message with a ticket id; throws what must be retried. */
  async function answerOf(record: SQSRecord, envelope: TicketEnvelope, context: Context): Promise<Answer> {
    const fresh = (result: TicketResult): Answer => ({ result, replayed: false, repeated: false });
    let ticket: Ticket;
    try {
      ticket = parseTicket(record.body, envelope);
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      return fresh(failedResult(envelope.detail.ticketId, error, operationNamed(envelope.detail.operation)));
    }
    parsedTickets.set(envelope, ticket);
    const requestId = deps.ids.next();
    lastRequestId.set(envelope, requestId);
    const eventId = eventIdOf(envelope);
    const attempt: TicketAttempt = {
      // Per source: two systems' ticket ids are two namespaces, and one that may put
      // events cannot take another's ticket id first (its answer would be a conflict).
      key: JSON.stringify([ticket.source, ticket.realmId, ticket.ticketId, ticket.operation]),
      fingerprint: ticketFingerprint(ticket),
      ticket,
      requestId,
      eventId,
    };
    try {
      const once = await handleOnce(attempt, context);
      const stored = storedAnswer(once.result);
      if (!once.replayed) return fresh(stored.result);
      // The same event delivered again (its answer may not have reached the bus): as the first time.
      if (sameEvent(stored, eventId)) return { result: stored.result, replayed: true, repeated: false };
      // Another request for a ticket that was reset: the first result, as a repeat.
      if (resetHappened(stored)) return { result: stored.result, replayed: true, repeated: true };
      // Another request for a ticket that was refused: nothing was reset, and its cause may be
      // fixed (the user's address added), so it runs again. The same refusal again is answered
      // as a repeat (no second note: a rule firing on rekey's own note cannot loop on it).
      await handleOnce.forget(attempt, once.result);
      const again = await handleOnce(attempt, context);
      const next = storedAnswer(again.result).result;
      return {
        result: next,
        replayed: again.replayed,
        repeated: again.replayed || sameAnswer(next, stored.result),
      };
    } catch (error) {
      // Refusals from the idempotency layer itself: the ticket id reused for another request.
      if (!isRefusal(error)) throw error;
      const refusal = failedResult(ticket.ticketId, error, ticket.operation);
      if (error.reason !== 'RetryTokenReuse') return fresh(refusal);
      const reuse = { ...attempt, key: JSON.stringify([attempt.key, attempt.fingerprint]), refusal };
      const once = await refuseReuseOnce(reuse, context);
      const stored = storedAnswer(once.result);
      if (!once.replayed) return fresh(stored.result);
      return { result: stored.result, replayed: true, repeated: !sameEvent(stored, eventId) };
    }
  }

  async function handleRecord(record: SQSRecord, context: Context): Promise<void> {
    const { messageId } = record;
    const envelope = readEnvelope(record.body);
    if (!envelope) {
      logger.error('poison message: not a ticket event', { messageId });
      throw new PoisonMessageError(messageId);
    }
    const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? 1);
    try {
      let answer: Answer;
      try {
        // Inside: a connector that cannot be looked up (the table down) is retried and, on
        // the last delivery, answered and audited like any other failure.
        await assertSentByItsConnector(envelope, messageId);
        answer = await answerOf(record, envelope, context);
      } catch (error) {
        if (error instanceof PoisonMessageError) throw error;
        // The queue's last delivery: tell the ticket before the dead-letter queue takes it.
        // Unless another delivery of it is still running: that one will answer.
        const inFlightElsewhere = error instanceof ConflictError && error.reason === 'RequestInProgress';
        const givingUp = receiveCount >= TICKET_MAX_RECEIVE_COUNT && !inFlightElsewhere;
        if (givingUp) await reportGivingUp(envelope, error, receiveCount);
        const kind = error instanceof RekeyError ? error.kind : 'Unexpected';
        const reason = error instanceof RekeyError ? error.reason : undefined;
        await observe(
          envelope,
          parsedTickets.get(envelope),
          { ok: false, refused: false, code: kind, reason },
          // Retried by the queue, unless this was the last delivery: the ticket was told it failed.
          { retried: !givingUp },
        );
        throw error;
      }
      const { result, replayed, repeated } = answer;
      // Audited and counted before it is published: a run that reset the password is on
      // record even if the bus then fails (its redelivery is then a replay, audited as one).
      await observe(envelope, parsedTickets.get(envelope), ticketOutcome(result), { replayed });
      await resultPublisher.publish(repeated ? asRepeated(result) : answering(envelope, result));
      logger.info(
        repeated ? 'ticket answered again, as a repeat: no note on the ticket' : 'ticket answered',
        {
          messageId,
          ticketId: safeName(result.detail.ticketId),
          result: result.detailType,
          ...('code' in result.detail ? { code: result.detail.code } : {}),
          ...(replayed ? { replayed } : {}),
        },
      );
    } catch (error) {
      // SQS delivers it again, or moves it to the dead-letter queue after maxReceiveCount receives.
      logger.warn('ticket not answered; left to the queue', {
        messageId,
        receiveCount,
        error: causeNames(error),
      });
      throw error;
    }
  }

  /**
   * A `PasswordResetFailed` for a ticket whose every delivery failed for a reason worth
   * retrying (a dependency down or throttled): without it the ticketing system would wait
   * forever. Best effort: if the bus fails too, only the dead-letter queue's alarm speaks.
   */
  async function reportGivingUp(envelope: TicketEnvelope, error: unknown, receives: number): Promise<void> {
    // An attempt may have reset the password before failing (its result not recorded, or a
    // write whose outcome was unknown): the message must not promise that nothing changed.
    const message =
      `The reset could not be confirmed after ${receives} attempts: a backing service was ` +
      `${error instanceof ThrottledError ? 'throttling' : 'failing'}. The user's password may or may not have been reset; ` +
      `send a new ticket later to issue a fresh one. This ticket's message is on the dead-letter queue.`;
    const options = { reason: 'RetriesExhausted' };
    const giveUp =
      error instanceof ThrottledError
        ? new ThrottledError(message, options)
        : new UnavailableError(message, options);
    try {
      await resultPublisher.publish(
        answering(
          envelope,
          failedResult(envelope.detail.ticketId, giveUp, operationNamed(envelope.detail.operation)),
        ),
      );
    } catch (publishError) {
      logger.error('giving up on a ticket: its Failed result was not published', {
        ticketId: safeName(envelope.detail.ticketId),
        error: causeNames(publishError),
      });
    }
  }

  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    logger.addContext(context);
    try {
      // Powertools' partial batch response: the records are handled concurrently, and SQS is
      // told which failed, so only those come back (and reach the dead-letter queue after
      // maxReceiveCount receives). Every message failing is still a per-message answer, not a
      // thrown batch: SQS retries each on its own. A processor per invocation holds no state
      // between batches.
      return await processPartialResponse(
        event,
        (record: SQSRecord) => handleRecord(record, context),
        new BatchProcessor(EventType.SQS),
        { context, throwOnFullBatchFailure: false },
      );
    } finally {
      metrics.flush();
    }
  };
}

/** A published result as an audit outcome (every ticket reset generates the password). */
function ticketOutcome(result: TicketResult): AuditOutcome {
  if (result.detailType === DETAIL_TYPES.completed) return { ok: true, result: 'PasswordIssued' };
  const { code } = result.detail;
  const [kind = code, reason] = code.split('.');
  // The reset happened but the notice did not go out: a failure on rekey's side, not a refusal.
  const refused = !(kind === 'Unavailable' || kind === 'Throttled');
  return { ok: false, refused, code, ...(reason !== undefined ? { reason } : {}) };
}

/** The connector a ticket came through: its id (intake), or the event source of a direct put. */
function connectorOf(envelope: TicketEnvelope): string {
  return connectorIdOfSource(envelope.source) ?? safeName(envelope.source);
}

function operationNamed(value: unknown): TicketOperation | undefined {
  return TICKET_OPERATIONS.find((operation) => operation === value);
}

/** The names along an error's cause chain, for operators; never a message (it may hold input). */
function causeNames(error: unknown): string {
  const names: string[] = [];
  let current: unknown = error;
  while (current instanceof Error && names.length < 4) {
    names.push(current.name);
    current = current.cause;
  }
  return names.join(' <- ') || typeof error;
}

export const handler = createHandler(
  createRuntime('ticket-worker', { notifier: createAwsNotifier() }),
  new EventBridgeResultPublisher(createEventBridge(), eventBusNameFromEnv()),
);
