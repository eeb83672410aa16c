/**
 * The local stand-in for the stacks' EventBridge API destinations: a result event that answers
 * a connector's ticket (`detail.connectorId`) becomes the same HTTP call the connector's API
 * destination makes in AWS — method, path and body from functions/ticketing (the note from
 * notes.ts), the Authorization header from the connector's reply credential in the vault (the
 * connection's secret in AWS). Like a rule target with a retry policy, a call the system
 * answers with a retryable status (409, 429, 5xx, no answer) is tried again, and after the last
 * try it goes to the dead-letter log and raises the local "alarm" (a line on stderr naming the
 * alarm the stack would raise). A 401 or 407 goes there at once: in AWS it de-authorizes the
 * connection (Basic authentication), and every note of that connector fails until its
 * credential is renewed (docs/ticketing.md, "Renewing a reply credential").
 *
 * Every call is logged in `<dataDir>/deliveries.jsonl` (`rekey deliveries`): method, URL,
 * status and body — never the credential, which is only ever in the request's header.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConnectorStore } from '#adapters/connector-store.ts';
import type { Runtime } from '#adapters/runtime.ts';
import { SecretNotFoundError } from '#core/errors.ts';
import { SECRET_PREFIXES } from '#functions/contracts.ts';
import {
  type Connector,
  connectorSecretNames,
  REPLY_ALARM_ID,
  REPLY_RETRY_ATTEMPTS,
  replyBase,
  replyCall,
} from '#functions/ticketing/connectors.ts';
import { fillTemplate, NOTE_FIELDS, noteKindOf, noteTemplate } from '#functions/ticketing/notes.ts';

/** The alarm the operations stack raises when a reply lands on its dead-letter queue. */
export const REPLY_ALARM_NAME = REPLY_ALARM_ID;

/** Tries of one reply: the first and the retries, as the stacks' rule targets. */
export const LOCAL_REPLY_ATTEMPTS = REPLY_RETRY_ATTEMPTS + 1;

/** Statuses EventBridge API destinations retry; any other non-2xx goes to the dead-letter queue at once. */
const RETRYABLE = new Set([409, 429]);
/** Statuses that de-authorize an EventBridge connection with Basic authentication. */
const DEAUTHORIZING = new Set([401, 407]);

/** One call (one try) the deliverer made, as `rekey deliveries` prints it. */
export interface DeliveryLine {
  at: string;
  connectorId: string;
  ticketId: string;
  result: string;
  method: string;
  url: string;
  /** The system's HTTP status, or 0 when it did not answer. */
  status: number;
  attempt: number;
  outcome: 'delivered' | 'retrying' | 'dead-lettered';
  /** The body sent (the note: never a password, never the credential). */
  body: string;
}

export interface ReplyEvent {
  'detail-type': string;
  detail: Record<string, unknown>;
}

export interface TicketReplies {
  /** Delivers a result event's note when it answers a connector's ticket. */
  handle(event: ReplyEvent): void;
  /** Resolves once every delivery started so far has landed or been dead-lettered. */
  idle(): Promise<void>;
}

export const deliveriesLogPath = (dataDir: string) => join(dataDir, 'deliveries.jsonl');
export const replyDeadLettersPath = (dataDir: string) => join(dataDir, 'reply-dead-letters.jsonl');

export interface TicketRepliesOptions {
  runtime: Runtime;
  dataDir: string;
  connectorSecretPrefix?: string;
  attempts?: number;
  /** Wait before retry n (1-based); default 1 s, 2 s, 4 s… (tests pass shorter). */
  backoffMs?: (retry: number) => number;
  /** Each try's timeout (EventBridge API destinations wait 5 s). */
  timeoutMs?: number;
}

export function startTicketReplies(options: TicketRepliesOptions): TicketReplies {
  const { runtime, dataDir } = options;
  const connectors = new ConnectorStore(runtime.dynamoDb, runtime.settings.tableName);
  const prefix = options.connectorSecretPrefix ?? SECRET_PREFIXES.connector;
  const attempts = options.attempts ?? LOCAL_REPLY_ATTEMPTS;
  const backoff = options.backoffMs ?? ((retry: number) => 1000 * 2 ** (retry - 1));
  const timeoutMs = options.timeoutMs ?? 5000;
  const running = new Set<Promise<void>>();

  const log = (line: DeliveryLine) =>
    appendFileSync(deliveriesLogPath(dataDir), `${JSON.stringify(line)}\n`, { mode: 0o600 });

  async function authorization(connector: Connector): Promise<string | undefined> {
    try {
      const value = JSON.parse(
        await runtime.deps.vault.read(connectorSecretNames(prefix, connector.connectorId).reply),
      ) as { authorization?: unknown };
      return typeof value.authorization === 'string' ? value.authorization : undefined;
    } catch (error) {
      if (error instanceof SecretNotFoundError) return undefined;
      throw error;
    }
  }

  async function deliver(event: ReplyEvent, connectorId: string): Promise<void> {
    const kind = noteKindOf(event['detail-type']);
    const ticketId = typeof event.detail.ticketId === 'string' ? event.detail.ticketId : '';
    const connector = await connectors.get(connectorId);
    if (!kind || !connector || ticketId === '') {
      console.error(`[ticket-replies] no reply for a ${event['detail-type']} of connector ${connectorId}`);
      return;
    }
    const call = replyCall(connector);
    const values = Object.fromEntries(
      Object.keys(NOTE_FIELDS[kind]).map((field) => [field, event.detail[field]]),
    );
    const body = fillTemplate(call.body(noteTemplate(kind)), values);
    const url = `${replyBase(connector.replyUrl)}${call.path.replace('*', encodeURIComponent(ticketId))}`;
    const auth = await authorization(connector);
    for (let attempt = 1; attempt <= attempts; attempt++) {
      let status = 0;
      try {
        const res = await fetch(url, {
          method: call.method,
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            ...(auth ? { authorization: auth } : {}),
          },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        status = res.status;
        await res.arrayBuffer();
      } catch {
        status = 0;
      }
      const delivered = status >= 200 && status < 300;
      const retry =
        !delivered && attempt < attempts && (status === 0 || status >= 500 || RETRYABLE.has(status));
      const line: DeliveryLine = {
        at: new Date().toISOString(),
        connectorId,
        ticketId,
        result: event['detail-type'],
        method: call.method,
        url,
        status,
        attempt,
        outcome: delivered ? 'delivered' : retry ? 'retrying' : 'dead-lettered',
        body,
      };
      log(line);
      if (delivered) return;
      if (!retry) {
        appendFileSync(
          replyDeadLettersPath(dataDir),
          `${JSON.stringify({ at: line.at, connectorId, ticketId, result: line.result, status, attempts: attempt })}\n`,
          { mode: 0o600 },
        );
        console.error(
          `[alarm] ${REPLY_ALARM_NAME}: the reply to ticket ${ticketId} of connector ${connectorId} failed ${attempt} time(s) (last status ${status || 'no answer'}) and is on the dead-letter queue`,
        );
        if (DEAUTHORIZING.has(status)) {
          console.error(
            `[ticket-replies] connector ${connectorId}: the system refused the reply credential (${status}); in AWS this de-authorizes the connection until the credential is renewed (docs/ticketing.md)`,
          );
        }
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, backoff(attempt)));
    }
  }

  return {
    handle(event) {
      const connectorId = event.detail.connectorId;
      if (typeof connectorId !== 'string') return;
      const run = deliver(event, connectorId)
        .catch((error: unknown) => {
          console.error(
            `[ticket-replies] reply for connector ${connectorId} failed: ${error instanceof Error ? error.name : typeof error}`,
          );
        })
        .finally(() => running.delete(run));
      running.add(run);
    },
    async idle() {
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}
