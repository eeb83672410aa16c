/**
 * What an adapter throws when an AWS call has failed for good (after the SDK's own retries):
 * a ThrottledError when AWS said "slow down" (429 in every dialect; a ticket is retried), else
 * an UnavailableError. Both are retryable for the caller; the SDK error stays the cause, for
 * the logs. Throttling is recognized by the SDK's own classifier (error names and HTTP 429),
 * less `LimitExceededException`: Secrets Manager raises it for a quota (too many versions,
 * say), which no retry soon will fix.
 */
import { isThrottlingError } from '@smithy/core/retry';
import { ThrottledError, UnavailableError } from '#core/errors.ts';

export function serviceFailure(service: string, error: unknown): ThrottledError | UnavailableError {
  if (
    error instanceof Error &&
    error.name !== 'LimitExceededException' &&
    isThrottlingError(error as Parameters<typeof isThrottlingError>[0])
  ) {
    return new ThrottledError(`The ${service} is receiving too many requests; retry later.`, {
      cause: error,
    });
  }
  return new UnavailableError(`The ${service} is unavailable; retry later.`, { cause: error });
}
