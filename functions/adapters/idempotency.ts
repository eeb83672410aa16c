/**
 * Idempotent execution on the rekey table through Powertools for AWS Lambda (idempotency):
 * a retry with the same key returns the first result and does the work once; the same key
 * with a different request, or while the first is still running, is a conflict.
 */

import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { ConflictError, RekeyError, UnavailableError } from '#core/errors.ts';

/** Retry tokens and ticket ids are remembered this long (OCI: 24 hours). */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

export interface IdempotentInput {
  /** The caller's key, already scoped (realm and token, or ticket and operation). */
  key: string;
  /** What must be the same for a retry to count as one: the target and the body. */
  fingerprint: string;
}

export interface IdempotencyOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Separates one operation's keys from another's: `oci-ui-password`, `ticket`. */
  scope: string;
  /** Wording of the conflict message, e.g. "opc-retry-token". */
  keyName: string;
}

/**
 * Wraps `fn` so that calls sharing `input.key` run once. Records live in the rekey table
 * under `pk = IDEMPOTENCY#{scope}` with the table's `ttl` attribute as their expiry.
 */
export function idempotent<I extends IdempotentInput, R>(
  fn: (input: I) => Promise<R>,
  options: IdempotencyOptions,
): (input: I, context: Context) => Promise<R> {
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'key',
    payloadValidationJmesPath: 'fingerprint',
    expiresAfterSeconds: IDEMPOTENCY_TTL_SECONDS,
    throwOnNoIdempotencyKey: true,
  });
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: options.tableName,
    keyAttr: 'pk',
    sortKeyAttr: 'sk',
    staticPkValue: `IDEMPOTENCY#${options.scope}`,
    expiryAttr: 'ttl',
    awsSdkV3Client: options.client,
  });
  const run = makeIdempotent(fn, { persistenceStore, config, keyPrefix: options.scope });
  return async (input, context) => {
    // The Lambda context bounds how long an in-flight record blocks a retry after a crash.
    config.registerLambdaContext(context);
    try {
      return await run(input);
    } catch (error) {
      throw translate(error, options.keyName);
    }
  };
}

function translate(error: unknown, keyName: string): unknown {
  if (error instanceof RekeyError) return error;
  if (error instanceof IdempotencyValidationError) {
    return new ConflictError(`The ${keyName} was already used for a different request.`, {
      reason: 'RetryTokenReuse',
      cause: error,
    });
  }
  if (error instanceof IdempotencyAlreadyInProgressError) {
    return new ConflictError(`A request with this ${keyName} is still in progress; retry shortly.`, {
      reason: 'RequestInProgress',
      cause: error,
    });
  }
  if (error instanceof Error && error.name.startsWith('Idempotency')) {
    return new UnavailableError('The idempotency store is unavailable; retry later.', { cause: error });
  }
  return error;
}
