/**
 * Partial batch responses for SQS event sources (`ReportBatchItemFailures`): every record is
 * handled concurrently, and SQS is told exactly which ones failed, so only those are
 * delivered again (and, after maxReceiveCount receives, moved to the dead-letter queue).
 *
 * Twelve lines rather than Powertools' BatchProcessor (~9 KB with its commons), which the
 * ticket worker's 350 KB bundle budget could not carry next to three notifying clients.
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

export async function reportBatchItemFailures(
  event: SQSEvent,
  handle: (record: SQSRecord) => Promise<unknown>,
): Promise<SQSBatchResponse> {
  const records = event.Records ?? [];
  const outcomes = await Promise.allSettled(records.map((record) => handle(record)));
  const batchItemFailures = outcomes.flatMap((outcome, i) =>
    outcome.status === 'rejected' ? [{ itemIdentifier: records[i]?.messageId ?? '' }] : [],
  );
  return { batchItemFailures };
}
