/**
 * Lambda entry point of the audit forwarder: a CloudWatch Logs subscription on each auditing
 * function's log group hands it the `{"rekeyAudit": …}` lines those functions write (one per
 * password operation, functions/adapters/audit.ts), and it puts each record on the rekey bus
 * as a `PasswordAudit` event (source `rekey`), where the audit rule keeps it 13 months and the
 * archive 400 days.
 *
 * The request path waits for no PutEvents call; this function makes them, off the request
 * path. A record the bus refuses is tried again twice here; if it still fails, the invocation
 * fails, so Lambda retries it (twice, asynchronous invocation) and then keeps the whole
 * payload in the forwarder's dead-letter queue. Delivery is at least once: a retried batch may
 * put a record twice, with the same `api.request.uid` and `time`. The record stays in the
 * original function's log group whatever happens.
 */
import { gunzipSync } from 'node:zlib';
import type { CloudWatchLogsDecodedData, CloudWatchLogsEvent } from 'aws-lambda';
import { auditRecordOfLine, type PasswordAuditRecord } from '#adapters/audit.ts';
import { createEventBridge, type EventBridgeApi } from '#adapters/eventbridge-publisher.ts';
import { createLogger, type Logger } from '#adapters/logger.ts';
import { createMetrics, type RekeyMetrics } from '#adapters/metrics.ts';
import { eventBusNameFromEnv } from '#adapters/settings.ts';
import { DETAIL_TYPES, METRIC, RESULT_SOURCE } from '#functions/contracts.ts';

/** PutEvents takes at most ten entries. */
const ENTRIES_PER_PUT = 10;
/** Puts of the entries the bus refused, within one invocation, before failing it. */
const PUT_ATTEMPTS = 3;

export interface ForwarderRuntime {
  bus: EventBridgeApi;
  busName: string;
  logger: Logger;
  metrics: RekeyMetrics;
}

/** The audit records in one subscription delivery (none in the control message a new subscription sends). */
export function auditRecordsIn(event: CloudWatchLogsEvent): {
  logGroup: string;
  records: PasswordAuditRecord[];
} {
  const data = JSON.parse(
    gunzipSync(Buffer.from(event.awslogs.data, 'base64')).toString('utf8'),
  ) as CloudWatchLogsDecodedData;
  if (data.messageType !== 'DATA_MESSAGE') return { logGroup: data.logGroup, records: [] };
  const records = data.logEvents.flatMap((logEvent) => {
    const record = auditRecordOfLine(logEvent.message);
    return record ? [record] : [];
  });
  return { logGroup: data.logGroup, records };
}

/** Builds the handler over its bus; tests pass a fake one. */
export function createHandler(runtime: ForwarderRuntime) {
  const { bus, busName, logger, metrics } = runtime;

  /** Puts `records`, retrying those the bus refused; returns how many it could not put. */
  async function put(records: PasswordAuditRecord[]): Promise<number> {
    let pending = records.map((record) => ({
      Source: RESULT_SOURCE,
      DetailType: DETAIL_TYPES.audit,
      Detail: JSON.stringify(record),
      EventBusName: busName,
    }));
    for (let attempt = 1; attempt <= PUT_ATTEMPTS && pending.length > 0; attempt++) {
      try {
        const out = await bus.putEvents(pending);
        if ((out.FailedEntryCount ?? 0) === 0) {
          pending = [];
        } else {
          // Entries answer the request's entries in order; one without an answer is tried again.
          pending = pending.filter((_, i) => out.Entries?.[i]?.ErrorCode !== undefined || !out.Entries?.[i]);
        }
      } catch (error) {
        logger.warn('audit records not put; trying again', {
          error: error instanceof Error ? error.name : typeof error,
          attempt,
        });
      }
    }
    return pending.length;
  }

  return async (event: CloudWatchLogsEvent): Promise<void> => {
    const { logGroup, records } = auditRecordsIn(event);
    let failed = 0;
    try {
      for (let i = 0; i < records.length; i += ENTRIES_PER_PUT) {
        failed += await put(records.slice(i, i + ENTRIES_PER_PUT));
      }
      if (failed > 0) metrics.count(METRIC.auditNotPublished, {}, failed);
    } finally {
      metrics.flush();
    }
    if (failed > 0) {
      // No record content here: each is in `logGroup` already, and the whole payload will be
      // in the dead-letter queue if Lambda's retries fail too.
      logger.error('audit records not put on the bus', { logGroup, failed, of: records.length });
      throw new Error(`${failed} of ${records.length} audit records were not put on the bus.`);
    }
    logger.info('audit records forwarded', { logGroup, count: records.length });
  };
}

const logger = createLogger('audit-forwarder');
export const handler = createHandler({
  bus: createEventBridge(),
  busName: eventBusNameFromEnv(),
  logger,
  metrics: createMetrics('audit-forwarder', logger),
});
