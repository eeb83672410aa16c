/**
 * aws-call.ts against the SDK's own clients: for the calls rekey makes without them (SES
 * SendEmail, SNS Publish, EventBridge PutEvents), the request on the wire is the one the
 * generated client sends for the same input (endpoint, operation headers, body), its signature
 * verifies, and AWS's answers, refusals included, are read as the SDK reads them.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AwsCallError,
  createAwsCaller,
  EVENTBRIDGE,
  endpointOf,
  SES,
  SNS,
  xmlText,
} from '#adapters/aws-call.ts';
import { createEventBridge } from '#adapters/eventbridge-publisher.ts';
import { serviceFailure } from '#adapters/service-errors.ts';
import { SES_API_VERSION, sendEmailParams } from '#adapters/ses-notifier.ts';
import { publishSmsParams, SNS_API_VERSION } from '#adapters/sns-notifier.ts';
import { ThrottledError, UnavailableError } from '#core/errors.ts';
import type { Notification } from '#core/ports.ts';
import { createRequestVerifier } from '#infra/local/sigv4-verifier.ts';
import {
  bothWays,
  queryError,
  type RecordedRequest,
  recordingTransport,
  type ScriptedAnswer,
  success,
  TEST_CREDENTIALS,
  through,
  wire,
} from '#test/support/aws-transport.ts';

const CREDENTIALS = TEST_CREDENTIALS;
const EMAIL: Notification = {
  channel: 'email',
  to: 'bob+tag@example.com',
  subject: "Ünïcode & symbols: !'()* ~ + = / ?",
  text: 'Line one\nLine two with % and &amp; and spaces',
};
const SMS: Notification = { channel: 'phone', to: '+15550100001', subject: '', text: 'code (1) & more *' };

const sesSdk = (options: object) =>
  new SESClient(options).send(
    new SendEmailCommand({
      Source: 'no-reply@rekey.example',
      Destination: { ToAddresses: [EMAIL.to] },
      Message: {
        Subject: { Data: EMAIL.subject, Charset: 'UTF-8' },
        Body: { Text: { Data: EMAIL.text, Charset: 'UTF-8' } },
      },
    }),
  );
const sesCall = (options: object) =>
  createAwsCaller(SES, options).query(
    'SendEmail',
    SES_API_VERSION,
    sendEmailParams('no-reply@rekey.example', EMAIL),
  );

describe('the wire, against the SDK client for the same input', () => {
  it('SES SendEmail: same endpoint, headers, scope and body, byte for byte', async () => {
    const [sdk, call] = await bothWays(sesSdk, sesCall);
    expect(wire(call)).toEqual(wire(sdk));
    expect(call.body).toBe(sdk.body);
    expect(wire(call).scope).toBe('eu-west-1/ses/aws4_request');
  });

  it('SNS Publish of a transactional SMS: same endpoint, headers, scope and body, byte for byte', async () => {
    const [sdk, call] = await bothWays(
      (options) =>
        new SNSClient(options).send(
          new PublishCommand({
            PhoneNumber: SMS.to,
            Message: SMS.text,
            MessageAttributes: {
              'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
            },
          }),
        ),
      (options) => createAwsCaller(SNS, options).query('Publish', SNS_API_VERSION, publishSmsParams(SMS)),
    );
    expect(wire(call)).toEqual(wire(sdk));
    expect(call.body).toBe(sdk.body);
  });

  it('EventBridge PutEvents: same endpoint, target, content type, scope, and the same JSON', async () => {
    const entries = [
      {
        Source: 'rekey',
        DetailType: 'PasswordResetCompleted',
        Detail: '{"ticketId":"INC1"}',
        EventBusName: 'rekey',
      },
    ];
    const [sdk, call] = await bothWays(
      (options) => new EventBridgeClient(options).send(new PutEventsCommand({ Entries: entries })),
      (options) => createEventBridge(options).putEvents(entries),
    );
    expect(wire(call)).toEqual(wire(sdk));
    expect(wire(call).target).toBe('AWSEvents.PutEvents');
    expect(JSON.parse(call.body)).toEqual(JSON.parse(sdk.body));
  });

  it.each(['us-east-1', 'eu-central-2', 'cn-north-1', 'us-gov-west-1', 'ap-southeast-7'])(
    'resolves the endpoint in %s as the SDK does, for each service',
    async (region) => {
      const ses = await bothWays(sesSdk, sesCall, region);
      const bus = await bothWays(
        (options) => new EventBridgeClient(options).send(new PutEventsCommand({ Entries: [] })),
        (options) => createEventBridge(options).putEvents([]),
        region,
      );
      expect(ses[1].hostname).toBe(ses[0].hostname);
      expect(bus[1].hostname).toBe(bus[0].hostname);
    },
  );
});

describe('the endpoint', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of [
      'AWS_ENDPOINT_URL',
      'AWS_ENDPOINT_URL_SES',
      'AWS_ENDPOINT_URL_EVENTBRIDGE',
      'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS',
    ]) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  it('takes AWS_ENDPOINT_URL_<SERVICE> over AWS_ENDPOINT_URL, and neither when told to ignore them', () => {
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:4566';
    process.env.AWS_ENDPOINT_URL_SES = 'http://127.0.0.1:4579';
    expect(endpointOf(SES, 'eu-west-1').href).toBe('http://127.0.0.1:4579/');
    expect(endpointOf(EVENTBRIDGE, 'eu-west-1').href).toBe('http://127.0.0.1:4566/');
    expect(endpointOf(SNS, 'eu-west-1', 'http://localhost:9/').href).toBe('http://localhost:9/');
    process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS = 'true';
    expect(endpointOf(SES, 'eu-west-1').href).toBe('https://email.eu-west-1.amazonaws.com/');
  });

  it('refuses, by name, a FIPS or dual-stack endpoint it cannot resolve, unless one is configured', () => {
    for (const flag of ['AWS_USE_FIPS_ENDPOINT', 'AWS_USE_DUALSTACK_ENDPOINT']) {
      const env = { [flag]: 'true' };
      expect(() => endpointOf(SES, 'us-east-1', undefined, env)).toThrow(
        `${flag} is set, and rekey's SES calls resolve no such endpoint: set AWS_ENDPOINT_URL_SES to it.`,
      );
      const configured = {
        ...env,
        AWS_ENDPOINT_URL_EVENTBRIDGE: 'https://events-fips.us-east-1.amazonaws.com',
      };
      expect(endpointOf(EVENTBRIDGE, 'us-east-1', undefined, configured).hostname).toBe(
        'events-fips.us-east-1.amazonaws.com',
      );
    }
  });

  it('sends to the configured endpoint, port and path included, and signs for it', async () => {
    process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = 'http://127.0.0.1:4010';
    const { transport, requests } = recordingTransport(() => ({
      status: 200,
      body: '{"FailedEntryCount":0}',
    }));
    await createEventBridge({
      region: 'us-east-1',
      credentials: CREDENTIALS,
      requestHandler: transport as never,
    }).putEvents([]);
    expect(requests[0]).toMatchObject({ hostname: '127.0.0.1', port: 4010, path: '/' });
    expect(requests[0]?.headers.host).toBe('127.0.0.1:4010');
  });
});

describe('the region', () => {
  it.each(['x@evil.example#', 'eu-west-1/../x', 'eu west 1'])(
    'refuses %j before it becomes part of a host, sending nothing',
    async (region) => {
      const { transport, requests } = recordingTransport(success);
      const error = await sesCall({ region, credentials: CREDENTIALS, requestHandler: transport }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      expect(requests).toHaveLength(0);
    },
  );

  it('rejects, never throws, when the text cannot be encoded (a lone surrogate)', async () => {
    const { transport, requests } = recordingTransport(success);
    const options = through(transport);
    const pending = createAwsCaller(SES, options).query('SendEmail', SES_API_VERSION, { Source: '\ud800' });
    await expect(pending).rejects.toBeInstanceOf(URIError);
    expect(requests).toHaveLength(0);
  });
});

describe('the signature', () => {
  const verify = createRequestVerifier({ credentials: CREDENTIALS });
  const received = (request: RecordedRequest) => ({
    method: request.method,
    url: request.path,
    headers: request.headers,
  });

  it('verifies, for a Query and a JSON call, and binds the body and the operation', async () => {
    const { transport, requests } = recordingTransport(success);
    const options = through(transport);
    await sesCall(options);
    await createEventBridge(options).putEvents([]);
    for (const request of requests) {
      expect(request.headers.authorization).toMatch(
        /SignedHeaders=[^,]*content-type[^,]*host[^,]*x-amz-date/,
      );
      expect(await verify(received(request), Buffer.from(request.body))).toBeUndefined();
      expect(await verify(received(request), Buffer.from(`${request.body} `))).toMatchObject({ status: 403 });
    }
    expect(requests[1]?.headers.authorization).toMatch(/SignedHeaders=[^,]*x-amz-target/);
  });

  it("sends a role's session token, signed, as Lambda's credentials carry one", async () => {
    const { transport, requests } = recordingTransport(success);
    const credentials = { ...CREDENTIALS, sessionToken: 'session-token-of-the-role' };
    await sesCall({ region: 'eu-west-1', credentials, requestHandler: transport as never });
    expect(requests[0]?.headers['x-amz-security-token']).toBe('session-token-of-the-role');
    expect(requests[0]?.headers.authorization).toMatch(/SignedHeaders=[^,]*x-amz-security-token/);
  });
});

describe('answers', () => {
  function caller(answer: (n: number) => ScriptedAnswer) {
    const { transport, requests } = recordingTransport((_, n) => answer(n));
    return {
      requests,
      options: through(transport),
    };
  }

  it('resolves a Query call to its XML and a JSON call to its parsed body', async () => {
    const query = caller(() => ({
      status: 200,
      body: '<?xml version="1.0"?>\n<SendEmailResponse><SendEmailResult><MessageId>m-&amp;-1</MessageId></SendEmailResult></SendEmailResponse>',
    }));
    const xml = await createAwsCaller(SES, query.options).query('SendEmail', SES_API_VERSION, {});
    expect(xmlText(xml, 'MessageId')).toBe('m-&-1');
    const json = caller(() => ({
      status: 200,
      body: '{"FailedEntryCount":1,"Entries":[{"ErrorCode":"X"}]}',
    }));
    expect(await createEventBridge(json.options).putEvents([])).toEqual({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'X' }],
    });
  });

  it.each([
    ['a page', '<html>oops</html>'],
    ['another action’s answer', '<PublishResponse><PublishResult/></PublishResponse>'],
    ['nothing', ''],
  ])('does not take a 200 whose body is %s for a sent message, as the SDK does not', async (_, body) => {
    const { requests, options } = caller(() => ({ status: 200, body }));
    const error = await createAwsCaller(SES, options)
      .query('SendEmail', SES_API_VERSION, {})
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'UnexpectedResponse', $metadata: { httpStatusCode: 200 } });
    expect(serviceFailure('e-mail service', error)).toBeInstanceOf(UnavailableError);
    expect(requests).toHaveLength(1);
    const sdk = await new SESClient({
      region: 'eu-west-1',
      credentials: CREDENTIALS,
      requestHandler: recordingTransport(() => ({ status: 200, body })).transport,
    })
      .send(
        new SendEmailCommand({
          Source: 'a@b.example',
          Destination: {},
          Message: { Subject: { Data: 's' }, Body: {} },
        }),
      )
      .then(
        (out) => out.MessageId ?? 'no message id',
        (e: unknown) => e,
      );
    // The SDK throws on a page; on an empty or another action's body it resolves with no id.
    expect(sdk === 'no message id' || sdk instanceof Error).toBe(true);
  });

  it.each([
    ['SNS', 'Throttled', 429],
    ['SNS', 'InvalidParameter', 400],
    ['SNS', 'ParameterValueInvalid', 400],
    ['SNS', 'InternalError', 500],
    ['SNS', 'AuthorizationError', 403],
    ['SNS', 'EndpointDisabled', 400],
    ['SNS', 'KMSThrottling', 400],
    ['SNS', 'ValidationException', 400],
    ['SNS', 'SomethingNew', 400],
    ['SES', 'MessageRejected', 400],
    ['SES', 'ConfigurationSetDoesNotExist', 400],
    ['SES', 'AccountSendingPausedException', 400],
    ['SES', 'Throttling', 400],
  ])(
    'names a %s %s refusal as the SDK client does, and decides its retry alike',
    async (service, code, status) => {
      const sdk = recordingTransport(() => queryError(status, code));
      const call = recordingTransport(() => queryError(status, code));
      const options = (transport: unknown) => through(transport);
      const [viaSdk, viaCall] =
        service === 'SNS'
          ? [
              await new SNSClient(options(sdk.transport))
                .send(new PublishCommand({ PhoneNumber: SMS.to, Message: SMS.text }))
                .catch((e: unknown) => e),
              await createAwsCaller(SNS, options(call.transport))
                .query('Publish', SNS_API_VERSION, publishSmsParams(SMS))
                .catch((e: unknown) => e),
            ]
          : [
              await sesSdk(options(sdk.transport)).catch((e: unknown) => e),
              await sesCall(options(call.transport)).catch((e: unknown) => e),
            ];
      expect((viaCall as Error).name).toBe((viaSdk as Error).name);
      expect(call.requests).toHaveLength(sdk.requests.length);
      expect(serviceFailure('x', viaCall).constructor).toBe(serviceFailure('x', viaSdk).constructor);
    },
  );

  it('reads a Query refusal as the SDK names it, and does not retry a client error', async () => {
    const { requests, options } = caller(() =>
      queryError(400, 'MessageRejected', 'Email address is not verified.'),
    );
    const error = await createAwsCaller(SES, options)
      .query('SendEmail', SES_API_VERSION, {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsCallError);
    expect(error).toMatchObject({
      name: 'MessageRejected',
      message: 'Email address is not verified.',
      $fault: 'client',
      $metadata: { httpStatusCode: 400, requestId: 'r-1', attempts: 1 },
    });
    expect(requests).toHaveLength(1);
  });

  it.each([
    [
      'the x-amzn-errortype header',
      { 'x-amzn-errortype': 'ThrottlingException:http://internal.amazon.com/' },
      '{}',
    ],
    [
      'the body’s __type',
      {},
      '{"__type":"com.amazon.coral.availability#ThrottlingException","message":"slow down"}',
    ],
    ['the body’s code', {}, '{"code":"ThrottlingException"}'],
  ])(
    'reads a JSON refusal’s code from %s, retries it as throttling, then gives up',
    async (_, headers, body) => {
      const { requests, options } = caller(() => ({ status: 400, headers, body }));
      const error = await createEventBridge(options)
        .putEvents([])
        .catch((e: unknown) => e);
      expect(error).toMatchObject({
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400, attempts: 3 },
      });
      expect(requests).toHaveLength(3);
      expect(serviceFailure('event bus', error)).toBeInstanceOf(ThrottledError);
    },
  );

  it('retries a 5xx whose body is not AWS’s, and succeeds when the next attempt does', async () => {
    const { requests, options } = caller((n) =>
      n === 1 ? { status: 503, body: '<html>Service Unavailable</html>' } : { status: 200, body: '{}' },
    );
    await expect(createEventBridge(options).putEvents([])).resolves.toEqual({});
    expect(requests).toHaveLength(2);
  });

  it('gives up after three attempts on a server that keeps failing, as an Unavailable cause', async () => {
    const { requests, options } = caller(() => ({ status: 500, body: 'oops' }));
    const error = await createAwsCaller(SNS, options)
      .query('Publish', SNS_API_VERSION, {})
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'UnknownError', message: 'HTTP 500', $fault: 'server' });
    expect(requests).toHaveLength(3);
    expect(serviceFailure('SMS service', error)).toBeInstanceOf(UnavailableError);
  });

  it('passes a transport failure through to the retry strategy, and its error out', async () => {
    let calls = 0;
    const transport = {
      handle: async () => {
        calls++;
        throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      },
    };
    const error = await createAwsCaller(SES, through(transport))
      .query('SendEmail', SES_API_VERSION, {})
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ECONNREFUSED' });
    expect(calls).toBe(3);
  });
});
