import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createAwsNotifier } from '#adapters/aws-notifier.ts';
import { SesNotifier } from '#adapters/ses-notifier.ts';
import { SnsNotifier } from '#adapters/sns-notifier.ts';
import { ThrottledError, UnavailableError } from '#core/errors.ts';
import type { Notification } from '#core/ports.ts';

const ses = mockClient(SESClient);
const sns = mockClient(SNSClient);
const CLIENT = { region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };

const email: Notification = {
  channel: 'email',
  to: 'alice@example.com',
  subject: 'Your new temporary password',
  text: 'Your temporary password is: Xy7#secret',
};
const sms: Notification = {
  channel: 'phone',
  to: '+15550100001',
  subject: 'ignored',
  text: 'code Xy7#secret',
};

/** An SDK-style service error. */
function serviceError(name: string): Error {
  const error = new Error(`${name} from the service`);
  error.name = name;
  return error;
}

beforeEach(() => {
  ses.reset();
  sns.reset();
  ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
  sns.on(PublishCommand).resolves({ MessageId: 'm-2' });
});
afterAll(() => {
  ses.restore();
  sns.restore();
});

describe('SesNotifier', () => {
  it('sends one plain-text UTF-8 e-mail from the configured sender to the recipient', async () => {
    await new SesNotifier(new SESClient(CLIENT), 'no-reply@rekey.example').send(email);
    expect(ses.commandCalls(SendEmailCommand).map((call) => call.args[0].input)).toEqual([
      {
        Source: 'no-reply@rekey.example',
        Destination: { ToAddresses: ['alice@example.com'] },
        Message: {
          Subject: { Data: 'Your new temporary password', Charset: 'UTF-8' },
          Body: { Text: { Data: 'Your temporary password is: Xy7#secret', Charset: 'UTF-8' } },
        },
      },
    ]);
  });

  it.each([
    ['MessageRejected', UnavailableError],
    ['TooManyRequestsException', ThrottledError],
  ])('turns an SES %s into a %O whose message holds nothing it was sending', async (name, kind) => {
    ses.on(SendEmailCommand).rejects(serviceError(name));
    const error = await new SesNotifier(new SESClient(CLIENT), 'no-reply@rekey.example')
      .send(email)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(kind);
    expect((error as Error).message).not.toContain('Xy7#secret');
    expect((error as Error).cause).toMatchObject({ name });
  });

  it('fails each send, without calling SES, when no sender address is configured', async () => {
    await expect(new SesNotifier(new SESClient(CLIENT), undefined).send(email)).rejects.toThrow(
      /REKEY_EMAIL_FROM/,
    );
    expect(ses.calls()).toHaveLength(0);
  });

  it('refuses a notification of another channel', async () => {
    await expect(new SesNotifier(new SESClient(CLIENT), 'a@b.example').send(sms)).rejects.toThrow(
      /e-mail only/,
    );
    expect(ses.calls()).toHaveLength(0);
  });
});

describe('SnsNotifier', () => {
  it('publishes a transactional SMS with the text to the phone number', async () => {
    await new SnsNotifier(new SNSClient(CLIENT)).send(sms);
    expect(sns.commandCalls(PublishCommand).map((call) => call.args[0].input)).toEqual([
      {
        PhoneNumber: '+15550100001',
        Message: 'code Xy7#secret',
        MessageAttributes: { 'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' } },
      },
    ]);
  });

  it.each([
    ['InternalErrorException', UnavailableError],
    ['ThrottledException', ThrottledError],
  ])('turns an SNS %s into a %O', async (name, kind) => {
    sns.on(PublishCommand).rejects(serviceError(name));
    const error = await new SnsNotifier(new SNSClient(CLIENT)).send(sms).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(kind);
    expect((error as Error).message).not.toContain('Xy7#secret');
  });

  it('refuses a notification of another channel', async () => {
    await expect(new SnsNotifier(new SNSClient(CLIENT)).send(email)).rejects.toThrow(/SMS only/);
    expect(sns.calls()).toHaveLength(0);
  });
});

describe('createAwsNotifier', () => {
  it('sends e-mail through SES and SMS through SNS', async () => {
    const notifier = createAwsNotifier(CLIENT, 'no-reply@rekey.example');
    await notifier.send(email);
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(1);
    expect(sns.calls()).toHaveLength(0);
    await notifier.send(sms);
    expect(sns.commandCalls(PublishCommand, { PhoneNumber: '+15550100001' })).toHaveLength(1);
    expect(ses.calls()).toHaveLength(1);
  });

  it('reuses one client per service across sends', async () => {
    const notifier = createAwsNotifier(CLIENT, 'no-reply@rekey.example');
    await notifier.send(email);
    await notifier.send(email);
    await notifier.send(sms);
    await notifier.send(sms);
    const [firstEmail, secondEmail] = ses.calls();
    const [firstSms, secondSms] = sns.calls();
    expect(firstEmail?.thisValue).toBeInstanceOf(SESClient);
    expect(secondEmail?.thisValue).toBe(firstEmail?.thisValue);
    expect(firstSms?.thisValue).toBeInstanceOf(SNSClient);
    expect(secondSms?.thisValue).toBe(firstSms?.thisValue);
  });

  it('takes the sender from REKEY_EMAIL_FROM by default', async () => {
    const previous = process.env.REKEY_EMAIL_FROM;
    process.env.REKEY_EMAIL_FROM = 'ops@rekey.example';
    try {
      await createAwsNotifier(CLIENT).send(email);
    } finally {
      if (previous === undefined) delete process.env.REKEY_EMAIL_FROM;
      else process.env.REKEY_EMAIL_FROM = previous;
    }
    expect(ses.commandCalls(SendEmailCommand)[0]?.args[0].input.Source).toBe('ops@rekey.example');
  });
});
