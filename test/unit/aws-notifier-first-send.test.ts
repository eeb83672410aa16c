/**
 * The AWS notifiers build a channel's SDK client on its first send, not at init: a function's
 * cold start pays for no client it does not use (docs/decisions.md, "Cold start").
 */
import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Notification } from '#core/ports.ts';

const built = vi.hoisted(() => ({ ses: 0, sns: 0 }));
vi.mock('#adapters/aws-clients.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('#adapters/aws-clients.ts')>();
  return {
    ...original,
    createSesClient: (...args: Parameters<typeof original.createSesClient>) => {
      built.ses++;
      return original.createSesClient(...args);
    },
    createSnsClient: (...args: Parameters<typeof original.createSnsClient>) => {
      built.sns++;
      return original.createSnsClient(...args);
    },
  };
});

const { createAwsNotifier, createEmailNotifier } = await import('#adapters/aws-notifier.ts');

const ses = mockClient(SESClient);
const sns = mockClient(SNSClient);
const CLIENT = { region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
const email: Notification = { channel: 'email', to: 'alice@example.com', subject: 's', text: 't' };
const sms: Notification = { channel: 'phone', to: '+15550100001', subject: 's', text: 't' };

beforeEach(() => {
  built.ses = 0;
  built.sns = 0;
  ses.reset();
  sns.reset();
  ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
  sns.on(PublishCommand).resolves({ MessageId: 'm-2' });
});

describe('a notifier built at init', () => {
  it('builds no SDK client until a channel is first used, then one per channel', async () => {
    const notifier = createAwsNotifier(CLIENT, 'no-reply@rekey.example');
    expect(built).toEqual({ ses: 0, sns: 0 });
    await notifier.send(email);
    expect(built).toEqual({ ses: 1, sns: 0 });
    await notifier.send(email);
    await notifier.send(sms);
    await notifier.send(sms);
    expect(built).toEqual({ ses: 1, sns: 1 });
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(2);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(2);
  });

  it('the e-mail-only notifier builds its SES client on the first send', async () => {
    const notifier = createEmailNotifier(CLIENT, 'no-reply@rekey.example');
    expect(built.ses).toBe(0);
    await notifier.send(email);
    await notifier.send(email);
    expect(built).toEqual({ ses: 1, sns: 0 });
  });
});
