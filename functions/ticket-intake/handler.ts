/**
 * Lambda entry point of `POST /tickets/{connectorId}`: a ticketing system's webhook. Connector
 * → sender verified with the connector's inbound secret (senders.ts) → rekey's intake body
 * (schema.ts) → the user found in the connector's realm → a `PasswordResetRequested` event on
 * the bus, for the worker (its queue, dead-letter queue, redelivery and once-per-ticket) → 202.
 * A user the realm does not have (unknown, or another realm's) is answered on the ticket as the
 * worker answers an unknown user: a `PasswordResetFailed` result, `NotFound.User`.
 * Nothing here reads or writes a password; the body is never logged.
 *
 * Observed (issue 14) as a ticketing system's attempt at a password reset: a refused intake
 * (unknown connector, unverified sender, bad body, unknown user) is one audit record and a
 * `Refused` count; an accepted one (202) is not the reset, which the worker audits.
 */
import { createHmac } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { ClientOptions } from '#adapters/aws-clients.ts';
import { ConnectorStore } from '#adapters/connector-store.ts';
import { createEventBridge, EventBridgeResultPublisher } from '#adapters/eventbridge-publisher.ts';
import { type IdempotentInput, idempotent } from '#adapters/idempotency.ts';
import { buildRuntime, noHasher, type Runtime } from '#adapters/runtime-base.ts';
import { eventBusNameFromEnv, requiredSetting } from '#adapters/settings.ts';
import { TicketRequestBus } from '#adapters/ticket-requests.ts';
import { NotFoundError, SecretNotFoundError } from '#core/errors.ts';
import type { User } from '#core/model.ts';
import type { Directory } from '#core/ports.ts';
import { asRepeated, failedResult, type ResultPublisher, type TicketResult } from '#core/tickets.ts';
import { rekeyDialect } from '#dialects/rekey.ts';
import { ENV, METRIC, TICKET_SCOPES } from '#functions/contracts.ts';
import {
  CONNECTOR_ID,
  type Connector,
  connectorSecretNames,
  connectorSource,
} from '#functions/ticketing/connectors.ts';
import { httpHandler, observing } from '#http/http-handler.ts';
import type { HttpEvent } from '#http/request.ts';
import { MAX_BODY_BYTES } from '#http/request.ts';
import { type IntakeRequest, parseIntake } from './schema.ts';
import { SenderRefusedError, verifySender } from './senders.ts';

export interface IntakeWiring {
  /** Where requests go (the bus). */
  requests: Pick<TicketRequestBus, 'put'>;
  /** Where an unknown user's refusal goes (the bus, as the worker's results). */
  results: ResultPublisher;
  /** The vault prefix of connectors' secrets. */
  connectorSecretPrefix: string;
}

const UNKNOWN_CONNECTOR = 'There is no ticketing connector with this id.';

/** Builds the handler over a runtime and the bus; tests and the local gateway pass their own. */
export function createHandler(runtime: Runtime, wiring: IntakeWiring | { clients: ClientOptions }) {
  const { deps, logger, metrics } = runtime;
  const connectors = new ConnectorStore(runtime.dynamoDb, runtime.settings.tableName);
  const { requests, results, connectorSecretPrefix } =
    'requests' in wiring ? wiring : busWiring(wiring.clients, process.env);
  // A refused intake is a refused reset; an accepted one (no `success`) is not audited here.
  const observe = observing(runtime, { operation: 'ticket-intake', activity: 'reset', actor: 'ticket' });
  // Published inside the once-record's run: a publish that fails leaves nothing remembered,
  // so the sender's retry posts the note.
  const refuseOnce = idempotent(
    async (input: IdempotentInput & { result: TicketResult }) => {
      await results.publish(input.result);
      return input.result;
    },
    {
      client: runtime.dynamoDb,
      tableName: runtime.settings.tableName,
      scope: TICKET_SCOPES.intake,
      keyName: 'ticketId',
      // Another user or channel asked on the same ticket is answered anew.
      replaceable: () => true,
    },
  );
  /**
   * Answers a ticket whose user the realm does not have (`NotFound.User`), on the ticket once
   * per request (the same user and channel) and a day: the same request again is answered on
   * the bus only, or a ticketing rule that fires on every update would fire again on rekey's
   * note, without end. What was asked is kept only as an HMAC under the connector's own secret:
   * the user field may hold anything, even a password typed in the wrong field, and a bare hash
   * of it could be guessed offline.
   */
  async function refuseUnknownUser(
    request: IntakeRequest,
    connectorId: string,
    inbound: string,
    context: Context,
  ): Promise<{ replayed: boolean }> {
    const failed = withConnector(
      failedResult(
        request.ticketId,
        new NotFoundError('User', 'The user does not exist or is not authorized.'),
        request.operation,
      ),
      connectorId,
    );
    const asked = JSON.stringify([request.user, request.notificationType ?? null]);
    const once = await refuseOnce(
      {
        key: JSON.stringify([connectorId, request.ticketId, request.operation]),
        fingerprint: createHmac('sha256', inbound).update(asked).digest('base64url'),
        result: failed,
      },
      context,
    );
    if (once.replayed) await results.publish(asRepeated(once.result));
    return { replayed: once.replayed };
  }

  return httpHandler(
    { dialect: rekeyDialect, logger, observe },
    async ({ event, context, requestId, note }) => {
      const connectorId = event.pathParameters?.connectorId ?? '';
      const connector = CONNECTOR_ID.test(connectorId) ? await connectors.get(connectorId) : undefined;
      if (!connector) throw new NotFoundError('Connector', UNKNOWN_CONNECTOR);
      // Named in the audit record from here: a connector that exists (the caller may not be it yet).
      const ticketNote: NonNullable<typeof note.ticket> = { connector: connectorId };
      note.ticket = ticketNote;
      note.target = { realmId: connector.realmId };
      const inbound = await readInbound(
        runtime,
        connectorSecretNames(connectorSecretPrefix, connectorId).inbound,
      );
      if (inbound === undefined) throw new NotFoundError('Connector', UNKNOWN_CONNECTOR);
      try {
        verifySender(connector.kind, inbound, event.headers ?? {}, rawBody(event), deps.clock.now());
      } catch (error) {
        if (error instanceof SenderRefusedError) {
          // For operators: which check failed; never a header's or the body's content.
          logger.warn('ticket intake refused a sender', { connectorId, problem: error.problem, requestId });
        }
        throw error;
      }
      ticketNote.verified = true;
      const request = parseIntake(event);
      ticketNote.ticketId = request.ticketId;
      const user = await findUser(deps.directory, connector, request.user);
      const source = connectorSource(connectorId);
      if (!user) {
        // Unknown or in another realm: the same answer as the worker's for a user it cannot find.
        const { replayed } = await refuseUnknownUser(request, connectorId, inbound, context);
        // A reset refused on the ticket: audited as refused (the 202 only says the ticket is
        // answered), and counted, once, as the worker counts a ticket it answers with a failure.
        note.refused = { code: 'NotFound.User', reason: 'User' };
        if (replayed) note.replayed = true;
        else metrics.count(METRIC.ticketFailed, { operation: request.operation });
      } else {
        note.target = { realmId: connector.realmId, userId: user.userId };
        await requests.put(source, {
          ticketId: request.ticketId,
          operation: request.operation,
          realmId: connector.realmId,
          userId: user.userId,
          ...(request.notificationType ? { notificationType: request.notificationType } : {}),
        });
      }
      logger.info('ticket accepted', {
        connectorId,
        ticketId: request.ticketId,
        operation: request.operation,
        ...(user ? { userId: user.userId } : { user: 'not in realm' }),
        requestId,
      });
      return { status: 202, body: { accepted: true, requestId } };
    },
  );
}

/** The result with the connector it answers, so that the connector's reply rule matches it. */
function withConnector<T extends { detail: object }>(result: T, connectorId: string): T {
  return { ...result, detail: { ...result.detail, connectorId } };
}

/** The request's bytes as the sender signed them. */
function rawBody(event: HttpEvent): Buffer {
  if (!event.body) return Buffer.alloc(0);
  const bytes = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  // Oversized bodies are refused by bodyText after the sender check; hash no more than that.
  return bytes.length > MAX_BODY_BYTES ? bytes.subarray(0, MAX_BODY_BYTES + 1) : bytes;
}

/** The connector's inbound secret, or undefined when it has none (a half-created connector). */
async function readInbound(runtime: Runtime, name: string): Promise<string | undefined> {
  try {
    const value = JSON.parse(await runtime.deps.vault.read(name)) as { secret?: unknown };
    return typeof value.secret === 'string' && value.secret.length > 0 ? value.secret : undefined;
  } catch (error) {
    if (error instanceof SecretNotFoundError) return undefined;
    throw error;
  }
}

/**
 * The user a ticket names in the connector's realm: by user id, else by username, else by
 * e-mail address (only when exactly one user of the realm has it). A user of another realm is
 * not found, exactly like a user who does not exist.
 */
async function findUser(
  directory: Directory,
  connector: Connector,
  named: string,
): Promise<User | undefined> {
  const inRealm = (user: User | undefined) => (user?.realmId === connector.realmId ? user : undefined);
  const byId = inRealm(await directory.getUser(named));
  if (byId) return byId;
  const byName = (await directory.findUsersByUsername(named)).find((user) => inRealm(user));
  if (byName) return byName;
  if (!named.includes('@')) return undefined;
  const byEmail = (await directory.findUsersByEmail(named)).filter((user) => inRealm(user));
  return byEmail.length === 1 ? byEmail[0] : undefined;
}

function busWiring(clients: ClientOptions, env: NodeJS.ProcessEnv): IntakeWiring {
  const bus = createEventBridge(clients);
  const busName = eventBusNameFromEnv(env);
  return {
    requests: new TicketRequestBus(bus, busName),
    results: new EventBridgeResultPublisher(bus, busName),
    connectorSecretPrefix: requiredSetting(env, ENV.connectorSecretPrefix),
  };
}

export const handler: (event: HttpEvent, context: Context) => Promise<unknown> = createHandler(
  buildRuntime('ticket-intake', noHasher),
  { clients: {} },
);
