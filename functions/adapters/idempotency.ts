/**
 * Idempotent execution on the rekey table: a retry with the same key returns the first
 * result and does the work once; the same key with a different request, or while the first
 * is still running, is a conflict. Records: `pk = IDEMPOTENCY#{scope}`, `sk = sha256(key)`,
 * expiring through the table's `ttl` (and checked on read, since TTL deletion is lazy).
 *
 * Hand-written rather than Powertools' idempotency utility, whose JMESPath engine and
 * persistence layer cost ~44 KB in every bundle that used it — the difference between the
 * ticket worker fitting its 350 KB budget or not — for the three conditional writes below.
 */
import { createHash } from 'node:crypto';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Context } from 'aws-lambda';
import { ConflictError, type RekeyError, UnavailableError } from '#core/errors.ts';
import { keys, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from '#functions/contracts.ts';
import { type DynamoDb, isConditionFailure } from './dynamodb-api.ts';
import { serviceFailure } from './service-errors.ts';

/** Retry tokens are remembered this long (OCI: 24 hours), and so is every key unless `keepFor` says otherwise. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

export interface IdempotentInput {
  /** The caller's key, already scoped (realm and token, or ticket and operation). */
  key: string;
  /** What must be the same for a retry to count as one: the target and the body. */
  fingerprint: string;
}

export interface IdempotencyOptions<R = unknown> {
  client: DynamoDb;
  tableName: string;
  /** Separates one operation's keys from another's: `oci-ui-password`, `ticket`. */
  scope: string;
  /** Wording of the conflict message, e.g. "opc-retry-token". */
  keyName: string;
  /**
   * How long a completed key is remembered, in seconds, by its result (default
   * IDEMPOTENCY_TTL_SECONDS for every result): a ticket's reset is kept as long as a ticket
   * may live, its refusal only a day.
   */
  keepFor?: (result: R) => number;
  /**
   * Whether a completed result gives way to a request with another fingerprint, which then
   * runs (default: never; the request is refused as a reuse of the key). For a result that
   * did nothing, such as a ticket's refusal: the ticket corrected is still its one request.
   */
  replaceable?: (result: R) => boolean;
  /** Epoch milliseconds; tests pass a controlled clock. */
  now?: () => number;
}

/** A call's result, and whether it is the first run's, answered again for a repeated key. */
export interface IdempotentResult<R> {
  result: R;
  /** True when nothing ran: the key had completed before and this is its stored result. */
  replayed: boolean;
}

interface IdempotencyRecord {
  status: 'IN_PROGRESS' | 'COMPLETED';
  fingerprint: string;
  /** Epoch seconds: the record is forgotten after it (the table's TTL attribute). */
  [TTL_ATTRIBUTE]: number;
  /** Epoch milliseconds: an IN_PROGRESS record older than this belongs to a crashed run. */
  inProgressUntil: number;
  result?: string;
}

/** How many times a lost race for an expired record is retried before giving up. */
const MAX_ATTEMPTS = 3;

/** `fn` run once per key; `forget` drops a key's completed result so that the next call runs. */
export interface Idempotent<I, R> {
  (input: I, context: Context): Promise<IdempotentResult<R>>;
  /**
   * Deletes the key's record if it still holds exactly `result` (another run's newer result
   * stays). For a result worth running again (a refusal whose cause may be fixed). Best effort.
   */
  forget(input: I, result: R): Promise<void>;
}

/** Wraps `fn` so that calls sharing `input.key` run once. */
export function idempotent<I extends IdempotentInput, R>(
  fn: (input: I) => Promise<R>,
  options: IdempotencyOptions<R>,
): Idempotent<I, R> {
  const now = options.now ?? Date.now;
  const keepFor = options.keepFor ?? (() => IDEMPOTENCY_TTL_SECONDS);
  const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');
  const send = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      if (isConditionFailure(error)) throw error;
      throw serviceFailure('idempotency store', error);
    }
  };

  const keyOf = (input: I) =>
    marshall({
      [PARTITION_KEY]: keys.idempotencyPartition(options.scope),
      [SORT_KEY]: sha256(input.key),
    });
  const run = async (input: I, context: Context): Promise<IdempotentResult<R>> => {
    const key = keyOf(input);
    const fingerprint = sha256(input.fingerprint);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const started = now();
      const record: IdempotencyRecord = {
        status: 'IN_PROGRESS',
        fingerprint,
        [TTL_ATTRIBUTE]: Math.floor(started / 1000) + IDEMPOTENCY_TTL_SECONDS,
        // A crashed run cannot hold the key longer than the Lambda could have run.
        inProgressUntil: started + context.getRemainingTimeInMillis(),
      };
      try {
        await send(() =>
          options.client.putItem({
            TableName: options.tableName,
            Item: { ...key, ...marshall(record) },
            ConditionExpression:
              'attribute_not_exists(pk) OR #ttl < :nowSeconds OR (#status = :inProgress AND #until < :nowMs)',
            ExpressionAttributeNames: {
              '#ttl': TTL_ATTRIBUTE,
              '#status': 'status',
              '#until': 'inProgressUntil',
            },
            ExpressionAttributeValues: marshall({
              ':nowSeconds': Math.floor(started / 1000),
              ':nowMs': started,
              ':inProgress': 'IN_PROGRESS',
            }),
          }),
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        const existing = await read(key);
        if (!existing) continue; // expired or deleted meanwhile: race for it again
        if (existing.fingerprint !== fingerprint) {
          const stored = existing.status === 'COMPLETED' ? existing.result : undefined;
          if (stored === undefined || !options.replaceable?.(JSON.parse(stored) as R)) {
            throw reuse(options.keyName);
          }
          await dropCompleted(key, stored);
          continue; // race for the key again, as for an expired record
        }
        if (existing.status === 'COMPLETED') {
          return { result: JSON.parse(existing.result ?? 'null') as R, replayed: true };
        }
        throw new ConflictError(
          `A request with this ${options.keyName} is still in progress; retry shortly.`,
          {
            reason: 'RequestInProgress',
          },
        );
      }
      return { result: await complete(key, record, input), replayed: false };
    }
    throw new UnavailableError('The idempotency record kept changing; retry later.');
  };
  const forget = (input: I, result: R): Promise<void> => dropCompleted(keyOf(input), JSON.stringify(result));
  return Object.assign(run, { forget });

  /** Deletes a key's record if it is still COMPLETED with exactly this stored result. Best effort. */
  function dropCompleted(key: Record<string, unknown>, result: string): Promise<void> {
    return deleteIf(key, '#status = :completed AND #result = :result', {
      names: { '#status': 'status', '#result': 'result' },
      values: { ':completed': 'COMPLETED', ':result': result },
    });
  }

  /** Deletes a key's record if `condition` holds of it. Best effort: a record left behind expires. */
  async function deleteIf(
    key: Record<string, unknown>,
    condition: string,
    { names, values }: { names: Record<string, string>; values: Record<string, unknown> },
  ): Promise<void> {
    await send(() =>
      options.client.deleteItem({
        TableName: options.tableName,
        Key: key as never,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: marshall(values),
      }),
    ).catch(() => undefined);
  }

  async function read(key: Record<string, unknown>): Promise<IdempotencyRecord | undefined> {
    const out = await send(() =>
      options.client.getItem({ TableName: options.tableName, Key: key as never, ConsistentRead: true }),
    );
    if (!out.Item) return undefined;
    const record = unmarshall(out.Item) as IdempotencyRecord;
    return record.ttl < Math.floor(now() / 1000) ? undefined : record;
  }

  /** Runs `fn`; stores its result, or releases the key so a retry runs again. */
  async function complete(key: Record<string, unknown>, record: IdempotencyRecord, input: I): Promise<R> {
    let result: R;
    try {
      result = await fn(input);
    } catch (error) {
      await release(key, record);
      throw error;
    }
    const completed: IdempotencyRecord = {
      ...record,
      [TTL_ATTRIBUTE]: Math.floor(now() / 1000) + keepFor(result),
      status: 'COMPLETED',
      result: JSON.stringify(result ?? null),
    };
    try {
      await send(() =>
        options.client.putItem({
          TableName: options.tableName,
          Item: { ...key, ...marshall(completed) } as never,
        }),
      );
    } catch (error) {
      // The caller hears of a failure, so its retry must run again rather than be told for
      // the rest of the claim's life that a request is "in progress" when none is. Should
      // the result have been stored all the same, the release finds it COMPLETED and keeps it.
      await release(key, record);
      throw error;
    }
    return result;
  }

  /**
   * Deletes this run's own claim: still IN_PROGRESS, with this run's deadline. Best effort:
   * a claim left behind expires with `inProgressUntil`.
   */
  function release(key: Record<string, unknown>, record: IdempotencyRecord): Promise<void> {
    return deleteIf(key, '#status = :inProgress AND #until = :until', {
      names: { '#status': 'status', '#until': 'inProgressUntil' },
      values: { ':inProgress': 'IN_PROGRESS', ':until': record.inProgressUntil },
    });
  }
}

function reuse(keyName: string): RekeyError {
  return new ConflictError(`The ${keyName} was already used for a different request.`, {
    reason: 'RetryTokenReuse',
  });
}
