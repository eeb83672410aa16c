/**
 * A local stand-in for an SQS queue with a Lambda event source mapping and a dead-letter
 * queue: messages are handed to the worker in batches of SQS-shaped records, the batch
 * item failures it reports are delivered again, and a message that has been received
 * `maxReceiveCount` times without success moves to the dead-letter queue.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ticketIdText } from '#functions/ticketing/ticket-id.ts';

/** A function an SQS event source mapping invokes with `reportBatchItemFailures`. */
export type QueueWorker = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** A message moved to the dead-letter queue, body included, as SQS keeps it. */
export interface DeadLetter {
  messageId: string;
  body: string;
  receiveCount: number;
  deadLetteredAt: string;
}

/** A line of the dead-letter log: ids only, never the body. */
export interface DeadLetterLine {
  messageId: string;
  /** The bus event's id (what PutEvents answered for it), when the body is a bus event. */
  eventId?: string;
  /** Its ticket id, only when it is one (a poison message's may hold anything: never kept). */
  ticketId?: string;
  receiveCount: number;
  deadLetteredAt: string;
}

interface Message {
  messageId: string;
  body: string;
  receiveCount: number;
  sentAt: number;
}

export interface LocalQueueOptions {
  name: string;
  worker: QueueWorker;
  /** Receives before a message is dead-lettered (the redrive policy's maxReceiveCount). */
  maxReceiveCount: number;
  batchSize: number;
  /** The worker's timeout, as its Lambda context reports it. */
  timeoutMs: number;
  /** Where a line per dead letter goes (ids only, never the body: it may be anything). */
  deadLetterLog?: string;
}

export class LocalQueue {
  private readonly pending: Message[] = [];
  private readonly dead: DeadLetter[] = [];
  private running: Promise<void> | undefined;

  constructor(private readonly options: LocalQueueOptions) {}

  /** Enqueues a message and returns its id; delivery happens in the background. */
  send(body: string): string {
    const messageId = randomUUID();
    this.pending.push({ messageId, body, receiveCount: 0, sentAt: Date.now() });
    this.schedule();
    return messageId;
  }

  /** Every dead-lettered message so far, oldest first. */
  deadLetters(): DeadLetter[] {
    return this.dead.map((letter) => ({ ...letter }));
  }

  /** Resolves once nothing is queued or being delivered. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private schedule(): void {
    if (this.running) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
      // A message sent while the last batch was finishing.
      if (this.pending.length > 0) this.schedule();
    });
  }

  private async drain(): Promise<void> {
    // Like a queue, never within the caller's own request.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.pending.length > 0) {
      await this.deliver(this.pending.splice(0, this.options.batchSize));
    }
  }

  private async deliver(batch: Message[]): Promise<void> {
    for (const message of batch) message.receiveCount++;
    let failed: Set<string>;
    try {
      const response = await this.options.worker(
        { Records: batch.map((m) => this.record(m)) },
        this.context(),
      );
      failed = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
    } catch (error) {
      // A worker that throws fails its whole batch, as in Lambda.
      console.error(
        `[${this.options.name}] worker failed: ${error instanceof Error ? error.name : typeof error}`,
      );
      failed = new Set(batch.map((m) => m.messageId));
    }
    for (const message of batch) {
      if (!failed.has(message.messageId)) continue;
      if (message.receiveCount < this.options.maxReceiveCount) this.pending.push(message);
      else this.deadLetter(message);
    }
  }

  private deadLetter(message: Message): void {
    const letter: DeadLetter = {
      messageId: message.messageId,
      body: message.body,
      receiveCount: message.receiveCount,
      deadLetteredAt: new Date().toISOString(),
    };
    this.dead.push(letter);
    if (this.options.deadLetterLog) {
      const line: DeadLetterLine = {
        messageId: letter.messageId,
        ...idsOf(letter.body),
        receiveCount: letter.receiveCount,
        deadLetteredAt: letter.deadLetteredAt,
      };
      appendFileSync(this.options.deadLetterLog, `${JSON.stringify(line)}\n`, { mode: 0o600 });
    }
    console.error(
      `[${this.options.name}] message ${message.messageId} moved to the dead-letter queue after ${message.receiveCount} receives`,
    );
  }

  private record(message: Message): SQSRecord {
    return {
      messageId: message.messageId,
      receiptHandle: `${message.messageId}#${message.receiveCount}`,
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: String(message.sentAt),
        SenderId: 'local',
        ApproximateFirstReceiveTimestamp: String(message.sentAt),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${this.options.name}`,
      awsRegion: 'us-east-1',
    };
  }

  private context(): Context {
    const deadline = Date.now() + this.options.timeoutMs;
    const functionName = 'rekey-ticket-worker';
    return {
      callbackWaitsForEmptyEventLoop: false,
      functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
      memoryLimitInMB: '1024',
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${functionName}`,
      logStreamName: 'local',
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
  }
}

/**
 * The ids of a message body worth a dead-letter line: the bus event's own id (the bus made
 * it) and the ticket id, only if it passes the ticket's id rule.
 */
function idsOf(body: string): Pick<DeadLetterLine, 'eventId' | 'ticketId'> {
  let event: { id?: unknown; detail?: { ticketId?: unknown } };
  try {
    event = JSON.parse(body) as typeof event;
  } catch {
    return {};
  }
  const eventId = typeof event?.id === 'string' && EVENT_ID.test(event.id) ? event.id : undefined;
  const ticketId = ticketIdText.safeParse(event?.detail?.ticketId);
  return {
    ...(eventId === undefined ? {} : { eventId }),
    ...(ticketId.success ? { ticketId: ticketId.data } : {}),
  };
}

/** The shape of the ids the bus gives its events (`randomUUID()`, as EventBridge's). */
const EVENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
