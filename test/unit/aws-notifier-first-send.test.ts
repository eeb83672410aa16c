/**
 * The AWS notifiers build a channel's caller on its first send, not at init: nothing is resolved
 * (region, endpoint, credentials) for a channel a function never uses.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Notification } from '#core/ports.ts';
import { recordingTransport, success } from '#test/support/aws-transport.ts';

const built = vi.hoisted(() => ({ ses: 0, sns: 0 }));
vi.mock('#adapters/aws-call.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('#adapters/aws-call.ts')>();
  return {
    ...original,
    createAwsCaller: (...args: Parameters<typeof original.createAwsCaller>) => {
      if (args[0].id === 'SES') built.ses++;
      if (args[0].id === 'SNS') built.sns++;
      return original.createAwsCaller(...args);
    },
  };
});

const { createAwsNotifier, createEmailNotifier } = await import('#adapters/aws-notifier.ts');

const { transport, requests } = recordingTransport(success);
const CLIENT = {
  region: 'eu-west-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  requestHandler: transport as never,
};
const email: Notification = { channel: 'email', to: 'alice@example.com', subject: 's', text: 't' };
const sms: Notification = { channel: 'phone', to: '+15550100001', subject: 's', text: 't' };
const sent = (action: string) => requests.filter((r) => r.body.startsWith(`Action=${action}&`)).length;

beforeEach(() => {
  built.ses = 0;
  built.sns = 0;
  requests.length = 0;
});

describe('a notifier built at init', () => {
  it('builds no caller until a channel is first used, then one per channel', async () => {
    const notifier = createAwsNotifier(CLIENT, 'no-reply@rekey.example');
    expect(built).toEqual({ ses: 0, sns: 0 });
    await notifier.send(email);
    expect(built).toEqual({ ses: 1, sns: 0 });
    await notifier.send(email);
    await notifier.send(sms);
    await notifier.send(sms);
    expect(built).toEqual({ ses: 1, sns: 1 });
    expect(sent('SendEmail')).toBe(2);
    expect(sent('Publish')).toBe(2);
  });

  it('the e-mail-only notifier builds its SES caller on the first send', async () => {
    const notifier = createEmailNotifier(CLIENT, 'no-reply@rekey.example');
    expect(built.ses).toBe(0);
    await notifier.send(email);
    await notifier.send(email);
    expect(built).toEqual({ ses: 1, sns: 0 });
  });
});
