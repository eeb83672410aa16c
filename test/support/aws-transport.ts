/**
 * A transport for AWS calls that records each request and answers from a script: what the
 * SDK's clients and rekey's aws-call.ts hand their `requestHandler`, without a network.
 */
import { HttpResponse } from '@smithy/core/protocols';

/** Credentials the tests sign with (any will do: nothing checks them but the local verifier). */
export const TEST_CREDENTIALS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret-for-tests' };

/** Client options that send through `transport`, signed with TEST_CREDENTIALS, in `region`. */
export function through(transport: unknown, region = 'eu-west-1') {
  return { region, credentials: TEST_CREDENTIALS, requestHandler: transport as never };
}

/** A request as the transport received it, signed, with its body as text. */
export interface RecordedRequest {
  method: string;
  hostname: string;
  port?: number;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** One scripted answer: a status, headers and a body. */
export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * Records every request; answers with `answer(request, n)` (n counts from 1). Its `handle` is
 * what Smithy's HttpHandler offers, so it can stand for the SDK's Node transport.
 */
export function recordingTransport(answer: (request: RecordedRequest, n: number) => ScriptedAnswer) {
  const requests: RecordedRequest[] = [];
  const transport = {
    async handle(request: {
      method: string;
      hostname: string;
      port?: number;
      path: string;
      headers: Record<string, string>;
      body?: unknown;
    }) {
      const body =
        request.body === undefined
          ? ''
          : typeof request.body === 'string'
            ? request.body
            : Buffer.from(request.body as Uint8Array).toString('utf8');
      const recorded = {
        method: request.method,
        hostname: request.hostname,
        ...(request.port ? { port: request.port } : {}),
        path: request.path,
        headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v])),
        body,
      };
      requests.push(recorded);
      const { status, headers = {}, body: out = '' } = answer(recorded, requests.length);
      return {
        response: new HttpResponse({ statusCode: status, headers, body: Buffer.from(out) }),
      };
    },
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
    destroy: () => undefined,
  };
  return { transport, requests };
}

/** The form parameters of a Query request's body. */
export function formOf(body: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(body));
}

/** An AWS Query protocol error answer, as SES and SNS send one. */
export function queryError(
  status: number,
  code: string,
  message = `${code} from the service`,
): ScriptedAnswer {
  return {
    status,
    headers: { 'content-type': 'text/xml' },
    body: `<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`,
  };
}

/** AWS's success for any request: a Query action's `<{Action}Response>` with a message id, or `{}`. */
export function success(request: RecordedRequest): ScriptedAnswer {
  const action = new URLSearchParams(request.body).get('Action');
  if (request.headers['content-type'] !== 'application/x-www-form-urlencoded' || !action) {
    return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: '{}' };
  }
  return {
    status: 200,
    headers: { 'content-type': 'text/xml' },
    body: `<?xml version="1.0"?>\n<${action}Response xmlns="https://aws.example/doc/"><${action}Result><MessageId>m-1</MessageId></${action}Result><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></${action}Response>`,
  };
}

/** Sends with the SDK's client and with aws-call, each through its own recording transport. */
export async function bothWays(
  viaSdk: (options: object) => Promise<unknown>,
  viaCall: (options: object) => Promise<unknown>,
  region = 'eu-west-1',
): Promise<[RecordedRequest, RecordedRequest]> {
  const sdk = recordingTransport(success);
  const call = recordingTransport(success);
  await viaSdk(through(sdk.transport, region)).catch(() => undefined);
  await viaCall(through(call.transport, region)).catch(() => undefined);
  const [first] = sdk.requests;
  const [second] = call.requests;
  if (!first || !second) throw new Error('a side sent nothing');
  return [first, second];
}

/** What must agree between the two requests: everything AWS reads, less the signature's time. */
export function wire(request: RecordedRequest) {
  const { headers } = request;
  return {
    method: request.method,
    hostname: request.hostname,
    path: request.path,
    contentType: headers['content-type'],
    target: headers['x-amz-target'],
    scope: /Credential=[^/]+\/\d{8}\/([^,]+),/.exec(headers.authorization ?? '')?.[1],
  };
}
