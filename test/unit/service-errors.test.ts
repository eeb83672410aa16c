/**
 * How adapters classify an AWS failure: throttling (a 429, a retried ticket) or unavailable
 * (a 5xx), with the SDK error kept as the cause.
 */

import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import type { PutEventsResponse } from '@aws-sdk/client-eventbridge';
import { SecretsManagerServiceException } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { EventBridgeResultPublisher } from '#adapters/eventbridge-publisher.ts';
import { serviceFailure } from '#adapters/service-errors.ts';
import { ThrottledError, UnavailableError } from '#core/errors.ts';

const secretsManagerError = (name: string, httpStatusCode = 400) =>
  new SecretsManagerServiceException({
    name,
    $fault: 'client',
    message: name,
    $metadata: { httpStatusCode },
  });

describe('serviceFailure', () => {
  it.each([
    [
      'DynamoDB ProvisionedThroughputExceededException',
      new ProvisionedThroughputExceededException({ message: 'x', $metadata: {} }),
    ],
    ['Secrets Manager ThrottlingException', secretsManagerError('ThrottlingException')],
    ['any error answered with HTTP 429', secretsManagerError('SomethingNew', 429)],
  ])('calls %s throttling', (_, error) => {
    const failure = serviceFailure('vault', error);
    expect(failure).toBeInstanceOf(ThrottledError);
    expect(failure.message).toBe('The vault is receiving too many requests; retry later.');
    expect(failure.cause).toBe(error);
  });

  it.each([
    [
      'a Secrets Manager quota (LimitExceededException), which no retry soon fixes',
      secretsManagerError('LimitExceededException'),
    ],
    ['an internal error', secretsManagerError('InternalServiceError', 500)],
    ['a network failure', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['something that is not an Error', 'boom'],
  ])('calls %s unavailable', (_, error) => {
    const failure = serviceFailure('vault', error);
    expect(failure).toBeInstanceOf(UnavailableError);
    expect(failure.message).toBe('The vault is unavailable; retry later.');
  });
});

describe('EventBridgeResultPublisher', () => {
  let answer: PutEventsResponse = {};
  const publisher = new EventBridgeResultPublisher({ putEvents: async () => answer }, 'rekey');
  const result = {
    detailType: 'PasswordResetFailed',
    detail: { ticketId: 'INC1', code: 'x', message: 'y' },
  } as const;

  it.each([
    ['ThrottlingException', ThrottledError],
    ['InternalFailure', UnavailableError],
  ])('turns an entry refused with %s into a %O', async (errorCode, kind) => {
    answer = { FailedEntryCount: 1, Entries: [{ ErrorCode: errorCode }] };
    await expect(publisher.publish(result)).rejects.toBeInstanceOf(kind);
  });
});
