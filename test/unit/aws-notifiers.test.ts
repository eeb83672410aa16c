/**
 * The AWS notifiers, through the whole send path: the notifier, aws-call.ts's signed call and
 * a recording transport standing for the network. What SES and SNS would receive is checked
 * field by field; test/unit/aws-call.test.ts checks it is what the SDK's own clients send.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createAwsCaller, SES, SNS } from '#adapters/aws-call.ts';
import { createAwsNotifier } from '#adapters/aws-notifier.ts';
import { SesNotifier } from '#adapters/ses-notifier.ts';
import { SnsNotifier } from '#adapters/sns-notifier.ts';
import { ThrottledError, UnavailableError } from '#core/errors.ts';
import type { Notification } from '#core/ports.ts';
import {
  formOf,
  queryError,
  type RecordedRequest,
  recordingTransport,
  type ScriptedAnswer,
  success,
  through,
} from '#test/support/aws-transport.ts';

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

/** A recording transport and the client options that send through it. */
function network(answer: (request: RecordedRequest, n: number) => ScriptedAnswer = success) {
  const { transport, requests } = recordingTransport(answer);
  return {
    requests,
    options: through(transport),
  };
}

afterEach(() => {
  delete process.env.REKEY_EMAIL_FROM;
});

describe('SesNotifier', () => {
  it('sends one plain-text UTF-8 e-mail from the configured sender to the recipient, signed for SES', async () => {
    const { requests, options } = network();
    await new SesNotifier(createAwsCaller(SES, options), 'no-reply@rekey.example').send(email);
    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request?.hostname).toBe('email.eu-west-1.amazonaws.com');
    expect(request?.headers.authorization).toMatch(/\/eu-west-1\/ses\/aws4_request, ?SignedHeaders=/);
    expect(formOf(request?.body ?? '')).toEqual({
      Action: 'SendEmail',
      Version: '2010-12-01',
      Source: 'no-reply@rekey.example',
      'Destination.ToAddresses.member.1': 'alice@example.com',
      'Message.Subject.Data': 'Your new temporary password',
      'Message.Subject.Charset': 'UTF-8',
      'Message.Body.Text.Data': 'Your temporary password is: Xy7#secret',
      'Message.Body.Text.Charset': 'UTF-8',
    });
  });

  it.each([
    ['MessageRejected', 400, UnavailableError, 1],
    ['Throttling', 400, ThrottledError, 3],
    ['InternalFailure', 500, UnavailableError, 3],
  ])(
    'turns an SES %s (%i) into a %O whose message holds nothing it was sending, after %i attempt(s)',
    async (code, status, kind, attempts) => {
      const { requests, options } = network(() => queryError(status, code));
      const error = await new SesNotifier(createAwsCaller(SES, options), 'no-reply@rekey.example')
        .send(email)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(kind);
      expect((error as Error).message).not.toContain('Xy7#secret');
      expect((error as Error).cause).toMatchObject({ name: code, $metadata: { httpStatusCode: status } });
      expect(requests).toHaveLength(attempts);
    },
  );

  it('fails each send, without calling SES, when no sender address is configured', async () => {
    const { requests, options } = network();
    await expect(new SesNotifier(createAwsCaller(SES, options), undefined).send(email)).rejects.toThrow(
      /REKEY_EMAIL_FROM/,
    );
    expect(requests).toHaveLength(0);
  });

  it('refuses a notification of another channel', async () => {
    const { requests, options } = network();
    await expect(new SesNotifier(createAwsCaller(SES, options), 'a@b.example').send(sms)).rejects.toThrow(
      /e-mail only/,
    );
    expect(requests).toHaveLength(0);
  });
});

describe('SnsNotifier', () => {
  it('publishes a transactional SMS with the text to the phone number, signed for SNS', async () => {
    const { requests, options } = network();
    await new SnsNotifier(createAwsCaller(SNS, options)).send(sms);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.hostname).toBe('sns.eu-west-1.amazonaws.com');
    expect(requests[0]?.headers.authorization).toMatch(/\/eu-west-1\/sns\/aws4_request, ?SignedHeaders=/);
    expect(formOf(requests[0]?.body ?? '')).toEqual({
      Action: 'Publish',
      Version: '2010-03-31',
      PhoneNumber: '+15550100001',
      Message: 'code Xy7#secret',
      'MessageAttributes.entry.1.Name': 'AWS.SNS.SMS.SMSType',
      'MessageAttributes.entry.1.Value.DataType': 'String',
      'MessageAttributes.entry.1.Value.StringValue': 'Transactional',
    });
  });

  it.each([
    ['InternalError', 500, UnavailableError],
    ['Throttled', 429, ThrottledError],
  ])('turns an SNS %s (%i) into a %O', async (code, status, kind) => {
    const { options } = network(() => queryError(status, code));
    const error = await new SnsNotifier(createAwsCaller(SNS, options)).send(sms).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(kind);
    expect((error as Error).message).not.toContain('Xy7#secret');
  });

  it('refuses a notification of another channel', async () => {
    const { requests, options } = network();
    await expect(new SnsNotifier(createAwsCaller(SNS, options)).send(email)).rejects.toThrow(/SMS only/);
    expect(requests).toHaveLength(0);
  });
});

describe('createAwsNotifier', () => {
  it('sends e-mail through SES and SMS through SNS', async () => {
    const { requests, options } = network();
    const notifier = createAwsNotifier(options, 'no-reply@rekey.example');
    await notifier.send(email);
    await notifier.send(sms);
    expect(requests.map((r) => [r.hostname, formOf(r.body).Action])).toEqual([
      ['email.eu-west-1.amazonaws.com', 'SendEmail'],
      ['sns.eu-west-1.amazonaws.com', 'Publish'],
    ]);
  });

  it('takes the sender from REKEY_EMAIL_FROM by default', async () => {
    const { requests, options } = network();
    process.env.REKEY_EMAIL_FROM = 'ops@rekey.example';
    await createAwsNotifier(options).send(email);
    expect(formOf(requests[0]?.body ?? '').Source).toBe('ops@rekey.example');
  });
});
