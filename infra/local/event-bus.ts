/**
 * The local EventBridge bus `rekey`: `PutEvents` (JSON 1.1, `AWSEvents.*`) on the local
 * endpoint, the rule that sends `PasswordResetRequested` events to the ticket queue, the
 * queue that invokes the same worker handler Lambda runs, and `<dataDir>/events.jsonl`,
 * where every result event rekey puts back is appended (`rekey events` prints it). The audit
 * rule's stand-in: every `PasswordAudit` event goes to `<dataDir>/audit.jsonl` instead
 * (`rekey audit` prints it), as the operations stack's rule sends them to the audit log group.
 */

import './local-env.ts';
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditTrail, type PasswordAuditRecord } from '#adapters/audit.ts';
import type { ClientOptions } from '#adapters/aws-clients.ts';
import {
  createEventBridge,
  DEFAULT_EVENT_BUS_NAME,
  EventBridgeResultPublisher,
  RESULT_SOURCE,
} from '#adapters/eventbridge-publisher.ts';
import { createRuntime, type RekeySettings, type Runtime } from '#adapters/runtime.ts';
import type { Notifier } from '#core/ports.ts';
import { TICKET_MAX_RECEIVE_COUNT } from '#core/tickets.ts';
import { DETAIL_TYPES } from '#functions/contracts.ts';
import { createHandler } from '#functions/ticket-worker/handler.ts';
import { TICKET_DETAIL_TYPE } from '#functions/ticket-worker/schema.ts';
import type { LocalEndpoint } from './local-endpoint.ts';
import { type DeadLetter, LocalQueue } from './local-queue.ts';
import { type AwsJsonReply, awsError } from './secrets-manager-api.ts';
import {
  type DeliveryLine,
  deliveriesLogPath,
  startTicketReplies,
  type TicketRepliesOptions,
} from './ticket-replies.ts';

/** An event as EventBridge delivers it to its targets. */
export interface BusEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

export interface LocalEventBusOptions {
  /** The runtime's settings (the local API's, with its page's URL); default: from the environment. */
  settings?: RekeySettings;
  endpoint: LocalEndpoint;
  dataDir: string;
  clients: ClientOptions;
  notifier: Notifier;
  /** Lets tests swap the worker's runtime (fault injection), as for the routes. */
  customizeRuntime?: (operation: string, runtime: Runtime) => Runtime;
  /** Receives before a ticket is dead-lettered (default 3). */
  maxReceiveCount?: number;
  /** The reply deliverer's retries and timeouts (tests make them short). */
  replies?: Pick<TicketRepliesOptions, 'attempts' | 'backoffMs' | 'timeoutMs'>;
}

export interface LocalEventBus {
  /** The ticket worker's runtime. */
  runtime: Runtime;
  /** `<dataDir>/events.jsonl`: the result events, one per line. */
  eventsLog: string;
  /** `<dataDir>/audit.jsonl`: the `PasswordAudit` events, one per line. */
  auditLog: string;
  /** Every audit event so far, oldest first. */
  audit(): BusEvent[];
  /** Every result event so far, oldest first. */
  results(): BusEvent[];
  /** The dead-letter queue of the ticket queue. */
  dlq(): DeadLetter[];
  /** Every call the reply deliverer made to a ticketing system so far (`rekey deliveries`). */
  deliveries(): DeliveryLine[];
  /** Resolves once every ticket put so far has a result or is dead-lettered, and its reply too. */
  idle(): Promise<void>;
}

/** The local path of the events log and of the dead-letter log (ids only) in a data folder. */
export const eventsLogPath = (dataDir: string) => join(dataDir, 'events.jsonl');
export const deadLetterLogPath = (dataDir: string) => join(dataDir, 'dead-letters.jsonl');
export const auditLogPath = (dataDir: string) => join(dataDir, 'audit.jsonl');

/** Builds the worker, the queue and the bus, and plugs the bus into the local endpoint. */
export function startLocalEventBus(options: LocalEventBusOptions): LocalEventBus {
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const base = createRuntime('ticket-worker', {
    clients: options.clients,
    notifier: options.notifier,
    audit: new LocalFileAuditTrail(auditLogPath(options.dataDir)),
    ...(options.settings ? { settings: options.settings } : {}),
  });
  const runtime = options.customizeRuntime?.('ticket-worker', base) ?? base;
  const publisher = new EventBridgeResultPublisher(
    createEventBridge(options.clients),
    DEFAULT_EVENT_BUS_NAME,
  );
  const queue = new LocalQueue({
    name: 'rekey-tickets',
    worker: createHandler(runtime, publisher),
    maxReceiveCount: options.maxReceiveCount ?? TICKET_MAX_RECEIVE_COUNT,
    batchSize: 10,
    timeoutMs: 60_000,
    deadLetterLog: deadLetterLogPath(options.dataDir),
  });
  const eventsLog = eventsLogPath(options.dataDir);
  const auditLog = auditLogPath(options.dataDir);
  // The connectors' reply rules and API destinations.
  const replies = startTicketReplies({ runtime, dataDir: options.dataDir, ...options.replies });

  /**
   * The rules and the logs: tickets to the queue, audit records to the audit log, rekey's own
   * results to the events log and the replies.
   */
  const route = (event: BusEvent) => {
    if (event['detail-type'] === TICKET_DETAIL_TYPE) queue.send(JSON.stringify(event));
    if (event.source !== RESULT_SOURCE) return;
    if (event['detail-type'] === DETAIL_TYPES.audit) {
      appendFileSync(auditLog, `${JSON.stringify(event)}\n`, { mode: 0o600 });
      return;
    }
    appendFileSync(eventsLog, `${JSON.stringify(event)}\n`, { mode: 0o600 });
    replies.handle(event);
  };
  options.endpoint.register('AWSEvents', (action, input) =>
    action === 'PutEvents'
      ? putEvents(input, route)
      : awsError('UnknownOperationException', `The local bus does not serve ${action}.`),
  );
  return {
    runtime,
    eventsLog,
    auditLog,
    results: () => readEvents(eventsLog),
    audit: () => readEvents(auditLog),
    dlq: () => queue.deadLetters(),
    deliveries: () => readJsonLines<DeliveryLine>(deliveriesLogPath(options.dataDir)),
    idle: async () => {
      await queue.idle();
      await replies.idle();
    },
  };
}

/**
 * The local functions' audit trail: each record appended to `<dataDir>/audit.jsonl` as the
 * `PasswordAudit` event the bus would have delivered, without the signed HTTP hop to the local
 * endpoint (one more request per operation, in the same process, made bursts of 50–100
 * requests outlast the gateway's 10 s timeout). In AWS the functions put them on the bus.
 */
export class LocalFileAuditTrail extends AuditTrail {
  constructor(private readonly path: string) {
    super();
  }

  protected async deliver(record: PasswordAuditRecord): Promise<void> {
    const event: BusEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': DETAIL_TYPES.audit,
      source: RESULT_SOURCE,
      account: '000000000000',
      time: new Date(record.time).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: 'us-east-1',
      resources: [],
      detail: record as unknown as Record<string, unknown>,
    };
    appendFileSync(this.path, `${JSON.stringify(event)}\n`, { mode: 0o600 });
  }
}

/** Every event of an events log, oldest first. */
export function readEvents(path: string): BusEvent[] {
  return readJsonLines<BusEvent>(path);
}

/** The values of a JSON-lines file, oldest first; none when it does not exist yet. */
export function readJsonLines<T>(path: string): T[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);
}

/** `PutEvents`: each entry is checked on its own, as EventBridge does, and routed if valid. */
function putEvents(input: Record<string, unknown>, route: (event: BusEvent) => void): AwsJsonReply {
  const entries = input.Entries;
  if (!Array.isArray(entries) || entries.length < 1 || entries.length > 10) {
    return awsError('ValidationException', 'Entries must hold 1 to 10 entries.');
  }
  const results = entries.map((entry: unknown) => {
    const event = toEvent(entry);
    if (typeof event === 'string') return { ErrorCode: 'InvalidArgument', ErrorMessage: event };
    route(event);
    return { EventId: event.id };
  });
  const failed = results.filter((result) => 'ErrorCode' in result).length;
  return { status: 200, body: { FailedEntryCount: failed, Entries: results } };
}

/** The event an entry puts on the rekey bus, or why it cannot. */
function toEvent(entry: unknown): BusEvent | string {
  const { Source, DetailType, Detail, EventBusName, Resources } = (entry ?? {}) as Record<string, unknown>;
  const bus = typeof EventBusName === 'string' ? EventBusName.split('/').pop() : 'default';
  if (bus !== DEFAULT_EVENT_BUS_NAME)
    return `The local endpoint has only the event bus ${DEFAULT_EVENT_BUS_NAME}.`;
  if (typeof Source !== 'string' || Source === '') return 'Source is required.';
  if (typeof DetailType !== 'string' || DetailType === '') return 'DetailType is required.';
  let detail: unknown;
  try {
    detail = typeof Detail === 'string' ? JSON.parse(Detail) : undefined;
  } catch {
    detail = undefined;
  }
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
    return 'Detail must be a JSON object.';
  }
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': DetailType,
    source: Source,
    account: '000000000000',
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: 'us-east-1',
    resources: Array.isArray(Resources) ? Resources.filter((r): r is string => typeof r === 'string') : [],
    detail: detail as Record<string, unknown>,
  };
}
