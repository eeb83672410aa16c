/**
 * The CLI's ticketing commands: `rekey event send FILE.json` puts events on the bus through
 * the standard SDK (and, locally, waits for their results), `rekey events` prints the local
 * events log.
 */
import { readFileSync } from 'node:fs';
import { PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { ClientOptions } from '#adapters/aws-clients.ts';
import { createEventBridgeClient } from '#adapters/aws-clients.ts';
import { DEFAULT_EVENT_BUS_NAME } from '#adapters/eventbridge-publisher.ts';
import { TICKET_DETAIL_TYPE } from '#functions/ticket-worker/schema.ts';
import { ticketIdText } from '#functions/ticketing/ticket-id.ts';
import {
  auditLogPath,
  type BusEvent,
  deadLetterLogPath,
  eventsLogPath,
  readEvents,
  readJsonLines,
} from '#infra/local/event-bus.ts';
import type { DeadLetterLine } from '#infra/local/local-queue.ts';

export interface EventIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

export interface SendOptions {
  clients: ClientOptions;
  env: NodeJS.ProcessEnv;
  dataDir: string;
  io: EventIo;
}

/** How often and how long the CLI looks for the results of the tickets it sent. */
const POLL_MS = 200;
const DEFAULT_WAIT_SECONDS = 30;

/**
 * Puts the event(s) of `file` (one EventBridge event or an array) on the bus. Against AWS it
 * prints PutEvents' answer; locally it prints the result events of the tickets it sent, as a
 * JSON array, and fails if a ticket has none in time or went to the dead-letter queue.
 */
export async function sendEvents(file: string, options: SendOptions): Promise<void> {
  const { env, io } = options;
  const entries = readEventFile(file, env.REKEY_EVENT_BUS_NAME || DEFAULT_EVENT_BUS_NAME);
  const local = env.REKEY_BACKEND !== 'aws';
  // Locally, only results logged after this point answer the tickets sent now.
  const resultsBefore = local ? readEvents(eventsLogPath(options.dataDir)).length : 0;
  const lettersBefore = local ? readJsonLines(deadLetterLogPath(options.dataDir)).length : 0;

  const client = createEventBridgeClient(options.clients);
  const answers: unknown[] = [];
  try {
    for (let i = 0; i < entries.length; i += 10) {
      const out = await client.send(new PutEventsCommand({ Entries: entries.slice(i, i + 10) }));
      answers.push(...(out.Entries ?? []));
      if ((out.FailedEntryCount ?? 0) > 0) {
        throw new Error(`the bus refused ${out.FailedEntryCount} event(s): ${JSON.stringify(out.Entries)}`);
      }
    }
  } finally {
    client.destroy();
  }
  if (!local) {
    // The results are the deployed ticket worker's to put on the bus; nothing here waits for them.
    io.out(JSON.stringify({ Entries: answers }, null, 2));
    io.err(
      `put ${entries.length} event(s) on the bus ${entries[0]?.EventBusName}; with REKEY_BACKEND=aws no result is awaited: the ticket worker behind the bus answers (the deployed stack's in AWS, nothing until it is deployed; npm start's own on its endpoint, see \`rekey events\`)`,
    );
    return;
  }

  const awaited = ticketsOf(entries, answers, file);
  const deadline = Date.now() + Number(env.REKEY_EVENT_WAIT_SECONDS || DEFAULT_WAIT_SECONDS) * 1000;
  let outcome = collect(options.dataDir, awaited, resultsBefore, lettersBefore);
  while (outcome.waiting.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    outcome = collect(options.dataDir, awaited, resultsBefore, lettersBefore);
  }
  io.out(JSON.stringify(outcome.results, null, 2));
  for (const { ticket, receiveCount } of outcome.deadLetters) {
    io.err(`${ticket.label} went to the dead-letter queue after ${receiveCount} receives`);
  }
  for (const ticket of outcome.waiting) {
    io.err(`no result for ${ticket.label} yet (is REKEY_DATA_DIR the server's data folder?)`);
  }
  if (outcome.waiting.length > 0 || outcome.deadLetters.length > 0) {
    throw new Error('not every ticket has a result');
  }
}

/**
 * A ticket sent: how the CLI names it (its id when it is one; else its place in the file, so
 * a malformed id, which may hold anything, is printed nowhere), the event id the bus answered,
 * and its ticket id when it is one (only those get results).
 */
interface SentTicket {
  label: string;
  eventId?: string;
  ticketId?: string;
}

interface Outcome {
  /** The result events of the tickets sent. */
  results: BusEvent[];
  /** The tickets sent that went to the dead-letter queue. */
  deadLetters: Array<{ ticket: SentTicket; receiveCount: number }>;
  /** The tickets still without every result they should get. */
  waiting: SentTicket[];
}

/** What the logs say so far about the tickets sent (lines written before they were sent are skipped). */
function collect(dataDir: string, sent: SentTicket[], resultsFrom: number, lettersFrom: number): Outcome {
  const ids = new Set(sent.flatMap((ticket) => (ticket.ticketId === undefined ? [] : [ticket.ticketId])));
  const results = readEvents(eventsLogPath(dataDir))
    .slice(resultsFrom)
    .filter((event) => ids.has(ticketIdOf(event)));
  const letters = readJsonLines<DeadLetterLine>(deadLetterLogPath(dataDir)).slice(lettersFrom);
  const deadLetters = sent.flatMap((ticket) => {
    const letter = letters.find((line) =>
      ticket.eventId !== undefined
        ? line.eventId === ticket.eventId
        : ticket.ticketId !== undefined && line.ticketId === ticket.ticketId,
    );
    return letter ? [{ ticket, receiveCount: letter.receiveCount }] : [];
  });
  const expected = (ticketId: string) => sent.filter((ticket) => ticket.ticketId === ticketId).length;
  const answered = (ticketId: string) => results.filter((event) => ticketIdOf(event) === ticketId).length;
  const waiting = sent
    .filter(
      (ticket) => ticket.ticketId === undefined || answered(ticket.ticketId) < expected(ticket.ticketId),
    )
    .filter((ticket) => !deadLetters.some((letter) => letter.ticket === ticket));
  return { results, deadLetters, waiting };
}

/** Prints the local events log, one event per line. */
export function printEvents(dataDir: string, io: EventIo): void {
  for (const event of readEvents(eventsLogPath(dataDir))) io.out(JSON.stringify(event));
}

/**
 * `rekey audit`: the audit records (`PasswordAudit` events' details, OCSF Account Change)
 * the local bus kept, oldest first, one JSON line each; only a realm's or a user's when asked.
 */
export function printAudit(
  dataDir: string,
  io: EventIo,
  filter: { realm?: string; user?: string } = {},
): void {
  for (const event of readEvents(auditLogPath(dataDir))) {
    const record = event.detail as { user?: { uid?: string; domain?: string } };
    if (filter.realm !== undefined && record.user?.domain !== filter.realm) continue;
    if (filter.user !== undefined && record.user?.uid !== filter.user) continue;
    io.out(JSON.stringify(record));
  }
}

/** The PutEvents entries of an event file; its content is never quoted in an error. */
function readEventFile(file: string, busName: string): PutEventsRequestEntry[] {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ? 'cannot be read' : 'is not valid JSON';
    throw new Error(`${file} ${why}`);
  }
  const events = Array.isArray(value) ? value : [value];
  if (events.length === 0) throw new Error(`${file} holds no event`);
  return events.map((event: unknown, index) => {
    const { source, 'detail-type': detailType, detail } = (event ?? {}) as Record<string, unknown>;
    if (typeof source !== 'string' || typeof detailType !== 'string' || !isObject(detail)) {
      throw new Error(
        `event ${index + 1} of ${file} needs a "source", a "detail-type" and a "detail" object`,
      );
    }
    return { Source: source, DetailType: detailType, Detail: JSON.stringify(detail), EventBusName: busName };
  });
}

/** The tickets a file's entries send, one per entry (a ticket sent twice awaits two results). */
function ticketsOf(entries: PutEventsRequestEntry[], answers: unknown[], file: string): SentTicket[] {
  return entries.flatMap((entry, index) => {
    if (entry.DetailType !== TICKET_DETAIL_TYPE) return [];
    const given: unknown = (JSON.parse(entry.Detail ?? '{}') as { ticketId?: unknown }).ticketId;
    const ticketId = ticketIdText.safeParse(given);
    const eventId = (answers[index] as { EventId?: unknown } | undefined)?.EventId;
    return [
      {
        label: ticketId.success
          ? `ticket ${ticketId.data}`
          : `event ${index + 1} of ${file} (its ticketId is not a ticket id)`,
        ...(typeof eventId === 'string' ? { eventId } : {}),
        ...(ticketId.success ? { ticketId: ticketId.data } : {}),
      },
    ];
  });
}

function ticketIdOf(event: BusEvent): string {
  return typeof event.detail.ticketId === 'string' ? event.detail.ticketId : '';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
