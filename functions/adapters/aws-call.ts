/**
 * One signed call to an AWS API, for every call rekey's functions make but Secrets Manager's:
 * SES `SendEmail` and SNS `Publish` (AWS Query protocol), EventBridge `PutEvents` (AWS JSON
 * 1.1) and DynamoDB's five item calls (AWS JSON 1.0, dynamodb-api.ts). Each of their generated
 * clients cost every cold start 8–19 M instructions of module evaluation (their other
 * operations' schemas, their modeled exceptions, their endpoint rules) for calls whose
 * requests are a dozen fields; docs/decisions.md, "Cold start, ninth pass" and "tenth pass",
 * has the measurements.
 *
 * Built from the SDK parts every function already loads for its Secrets Manager client, so
 * only the wire format below is rekey's own:
 * - the SDK's SigV4 signer (`@smithy/signature-v4`) and SHA-256;
 * - its default credential chain (in Lambda bundles, the environment: lambda-credentials.ts);
 * - its region chain (`AWS_REGION`, then the shared config file);
 * - its Node transport, bounded like every client's (`SDK_TIMEOUTS`), or any transport given;
 * - its standard retry strategy (three attempts, the same back-off and retry quota), fed by
 *   its own error classifiers, and the `Retry-After` hint as it reads it.
 *
 * The endpoint is the one the SDK's rules give for a standard region (`{prefix}.{region}.
 * {dnsSuffix}` of the region's partition), unless `AWS_ENDPOINT_URL_<SERVICE>` or
 * `AWS_ENDPOINT_URL` say otherwise (as for every SDK client, unless
 * `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is set). FIPS and dual-stack endpoints, which rekey
 * never configures, are not resolved: `AWS_USE_FIPS_ENDPOINT` or `AWS_USE_DUALSTACK_ENDPOINT`
 * without a configured URL fails the call, naming the variable that would give it.
 *
 * A refusal is thrown as an `AwsCallError` shaped like the SDK's service exceptions (`name` is
 * the error code, `$fault`, `$metadata.httpStatusCode`), so service-errors.ts classifies both
 * alike. Its message is AWS's, as the SDK's would be.
 */
import { partition } from '@aws-sdk/core/client';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Sha256 } from '@smithy/core/checksum';
import { loadConfig, NODE_REGION_CONFIG_FILE_OPTIONS, NODE_REGION_CONFIG_OPTIONS } from '@smithy/core/config';
import { HttpRequest } from '@smithy/core/protocols';
import {
  getRetryAfterHint,
  isServerError,
  isThrottlingError,
  isTransientError,
  StandardRetryStrategy,
} from '@smithy/core/retry';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, HttpResponse } from '@smithy/types';
import type { ClientOptions } from './aws-clients.ts';
import { SDK_TIMEOUTS } from './aws-clients.ts';

/** The part of Smithy's HttpHandler a call uses: the SDK's Node transport, or one given. */
interface HttpHandler {
  handle(request: HttpRequest): Promise<{ response: HttpResponse }>;
}

/** What the SDK's rules and its endpoint variables know a service by. */
export interface AwsService {
  /** The SDK's service id, whose upper-cased words name `AWS_ENDPOINT_URL_<ID>`. */
  id: string;
  /** The host's first label on a standard endpoint. */
  endpointPrefix: string;
  /** SigV4's service name. */
  signingName: string;
  /**
   * The SDK's name for an error whose wire code differs (the Query protocol's codes drop the
   * `Exception` of the modeled name): the calls rekey makes, as their SDK commands list them.
   * Any other code is its own name, as the SDK names an error it does not model.
   */
  errorNames?: Readonly<Record<string, string>>;
  /** The AWS JSON protocol's version the service speaks (`application/x-amz-json-<v>`); 1.1 unless said. */
  jsonVersion?: '1.0' | '1.1';
  /** The retry back-off's base delay in ms, where the SDK's client sets its own (DynamoDB: 25). */
  retryBaseDelay?: number;
  /** JSON.parse's reviver for the service's answers (DynamoDB's binary attribute values). */
  reviver?: (key: string, value: unknown) => unknown;
  /** Codes the SDK's model marks retryable (`$retryable`), which its classifiers then retry. */
  retryableErrors?: readonly string[];
}

export const SES: AwsService = {
  id: 'SES',
  endpointPrefix: 'email',
  signingName: 'ses',
  // SendEmail's: MessageRejected, MailFromDomainNotVerifiedException, AccountSendingPausedException
  // and ConfigurationSetSendingPausedException are sent under their names.
  errorNames: { ConfigurationSetDoesNotExist: 'ConfigurationSetDoesNotExistException' },
};
export const SNS: AwsService = {
  id: 'SNS',
  endpointPrefix: 'sns',
  signingName: 'sns',
  // Publish's (KMSOptInRequired and ValidationException are sent under their names), and the
  // throttling code SNS documents.
  errorNames: {
    AuthorizationError: 'AuthorizationErrorException',
    EndpointDisabled: 'EndpointDisabledException',
    InternalError: 'InternalErrorException',
    InvalidParameter: 'InvalidParameterException',
    ParameterValueInvalid: 'InvalidParameterValueException',
    InvalidSecurity: 'InvalidSecurityException',
    KMSAccessDenied: 'KMSAccessDeniedException',
    KMSDisabled: 'KMSDisabledException',
    KMSInvalidState: 'KMSInvalidStateException',
    KMSNotFound: 'KMSNotFoundException',
    KMSThrottling: 'KMSThrottlingException',
    NotFound: 'NotFoundException',
    PlatformApplicationDisabled: 'PlatformApplicationDisabledException',
    Throttled: 'ThrottledException',
  },
};
export const EVENTBRIDGE: AwsService = { id: 'EventBridge', endpointPrefix: 'events', signingName: 'events' };
export const DYNAMODB: AwsService = {
  id: 'DynamoDB',
  endpointPrefix: 'dynamodb',
  signingName: 'dynamodb',
  jsonVersion: '1.0',
  retryBaseDelay: 25,
  retryableErrors: ['ReplicatedWriteConflictException'],
  // An attribute value's `B` (binary) and `BS` (binary set) are base64 on the wire and
  // Uint8Array in the SDK's answers. Only an attribute value has them: under a map (`M`), a
  // key is an attribute name and its value an object, never a string.
  reviver: (key, value) => {
    // JSON.parse makes `__proto__` an own key; unmarshall's assignment would then set the
    // record's prototype. rekey never writes such an attribute (the SDK's client fails on it too).
    if (key === '__proto__') throw new Error('DynamoDB answered an attribute named __proto__.');
    if (key === 'B' && typeof value === 'string') return fromBase64(value);
    if (key === 'BS' && Array.isArray(value) && value.every((v) => typeof v === 'string')) {
      return value.map(fromBase64);
    }
    return value;
  },
};

/** Base64 to bytes, as the SDK decodes a blob: a plain Uint8Array over the decoded buffer. */
function fromBase64(text: string): Uint8Array {
  const bytes = Buffer.from(text, 'base64');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** An AWS refusal, shaped like the SDK's service exceptions for the same classifiers. */
export class AwsCallError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode: number; requestId?: string; attempts?: number };
  /** The answer's `Retry-After`, as the SDK reads it, for the retry strategy. */
  retryAfterHint?: Date | undefined;
  /** Set, as the SDK's modeled exception sets it, for a code its model marks retryable. */
  $retryable?: object;
  /**
   * DynamoDB's `ConditionalCheckFailedException` member: the item the failed condition saw,
   * when the call asked for it (`ReturnValuesOnConditionCheckFailure`), as the SDK's has it.
   */
  Item?: Record<string, unknown>;

  constructor(code: string, message: string, status: number, requestId: string | undefined) {
    super(message);
    this.name = code;
    this.$fault = status >= 500 ? 'server' : 'client';
    this.$metadata = { httpStatusCode: status, ...(requestId ? { requestId } : {}) };
  }
}

/** One request: its operation headers, its body, its protocol, and a Query answer's root. */
interface Call {
  headers: Record<string, string>;
  body: string;
  protocol: 'query' | 'json';
  answer?: string;
}

/** Calls one service; one per container, like a client (the retry quota is its state). */
export interface AwsCaller {
  /** An AWS Query action (form-encoded parameters); resolves to the response's XML. */
  query(action: string, version: string, params: Readonly<Record<string, string>>): Promise<string>;
  /**
   * An AWS JSON operation (`X-Amz-Target`); resolves to the parsed response. Binary members
   * (Uint8Array, Buffer) travel as base64, as the SDK sends them; an answer's are decoded by
   * the service's reviver (DynamoDB's, into Uint8Array), else left as text.
   */
  json(target: string, input: unknown): Promise<unknown>;
  /** Closes the transport's idle connections, if this caller made the transport. */
  destroy(): void;
}

/** `AWS_ENDPOINT_URL_<SERVICE>`: the service id's words, upper-cased, joined by `_`. */
const endpointVariable = (service: AwsService) =>
  ['AWS_ENDPOINT_URL', ...service.id.split(' ').map((w) => w.toUpperCase())].join('_');

/** `AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`, read as the SDK reads them. */
function configuredEndpoint(service: AwsService, env: NodeJS.ProcessEnv): string | undefined {
  if (/^true$/i.test(env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ?? '')) return undefined;
  return env[endpointVariable(service)] || env.AWS_ENDPOINT_URL || undefined;
}

/**
 * The service's URL in a region: the one given, the one configured, else the standard one. A
 * FIPS or dual-stack endpoint asked for by the SDK's variables is refused by name rather than
 * quietly not used: configure its URL instead.
 */
export function endpointOf(
  service: AwsService,
  region: string,
  given?: string,
  env: NodeJS.ProcessEnv = process.env,
): URL {
  const url = given ?? configuredEndpoint(service, env);
  if (url) return new URL(url);
  // The SDK's rules refuse a region that is not a host label; here it would become the host.
  if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i.test(region)) {
    throw new Error(`The region is not a valid host label; check AWS_REGION.`);
  }
  const asked = ['AWS_USE_FIPS_ENDPOINT', 'AWS_USE_DUALSTACK_ENDPOINT'].find((name) =>
    /^true$/i.test(env[name] ?? ''),
  );
  if (asked) {
    throw new Error(
      `${asked} is set, and rekey's ${service.id} calls resolve no such endpoint: set ${endpointVariable(service)} to it.`,
    );
  }
  return new URL(`https://${service.endpointPrefix}.${region}.${partition(region).dnsSuffix}`);
}

/** Form-encodes as the SDK's Query serializer does (RFC 3986: `!'()*` escaped too). */
function formEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** The text of the first `<tag>` in an XML document, entities decoded. */
export function xmlText(xml: string, tag: string): string | undefined {
  const match = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return match?.[1]?.replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => XML_ENTITIES[name] ?? '');
}

async function bodyText(body: unknown): Promise<string> {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return Buffer.from(body).toString('utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The error code of a JSON refusal, as the SDK reads it: header first, then the body. (Node's
 * transport, like the local one, hands header names over in lower case.)
 */
function jsonErrorCode(response: HttpResponse, body: Record<string, unknown>): string | undefined {
  const raw =
    response.headers['x-amzn-errortype'] ??
    (typeof body.code === 'string' ? body.code : undefined) ??
    body.__type;
  if (typeof raw !== 'string' || raw === '') return undefined;
  return raw.split(':')[0]?.split('#').pop();
}

function parseJson(text: string, reviver?: AwsService['reviver']): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text, reviver);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The refusal an error answer stands for, whatever its body holds. */
function refusal(
  service: AwsService,
  response: HttpResponse,
  text: string,
  protocol: 'query' | 'json',
): AwsCallError {
  const status = response.statusCode;
  const requestId = response.headers['x-amzn-requestid'] ?? response.headers['x-amz-request-id'];
  if (protocol === 'query') {
    const code = xmlText(text, 'Code') ?? 'UnknownError';
    return new AwsCallError(
      service.errorNames?.[code] ?? code,
      xmlText(text, 'Message') ?? `HTTP ${status}`,
      status,
      requestId ?? xmlText(text, 'RequestId'),
    );
  }
  const body = parseJson(text, service.reviver);
  const message = body.message ?? body.Message;
  const error = new AwsCallError(
    jsonErrorCode(response, body) ?? 'UnknownError',
    typeof message === 'string' ? message : `HTTP ${status}`,
    status,
    requestId,
  );
  if (body.Item && typeof body.Item === 'object') error.Item = body.Item as Record<string, unknown>;
  if (service.retryableErrors?.includes(error.name)) error.$retryable = {};
  return error;
}

/**
 * JSON.stringify's replacer for binary members: base64, as the SDK's JSON serializers send
 * them. It reads the member from its holder, since a Buffer's own toJSON has already run on
 * `value` (`{type: 'Buffer', data: [...]}`).
 */
function base64Binary(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  return raw instanceof Uint8Array ? Buffer.from(raw).toString('base64') : value;
}

/** The SDK retry middleware's classification of an error. */
function errorType(error: unknown): 'THROTTLING' | 'TRANSIENT' | 'SERVER_ERROR' | 'CLIENT_ERROR' {
  if (!(error instanceof Error)) return 'CLIENT_ERROR';
  const sdkError = error as Parameters<typeof isThrottlingError>[0];
  if (isThrottlingError(sdkError)) return 'THROTTLING';
  if (isTransientError(sdkError)) return 'TRANSIENT';
  if (isServerError(sdkError)) return 'SERVER_ERROR';
  return 'CLIENT_ERROR';
}

export function createAwsCaller(service: AwsService, options: ClientOptions = {}): AwsCaller {
  const given = options.requestHandler as HttpHandler | undefined;
  const own = typeof given?.handle === 'function' ? undefined : new NodeHttpHandler(SDK_TIMEOUTS);
  const transport: HttpHandler = own ?? (given as HttpHandler);
  const credentials: () => Promise<AwsCredentialIdentity> = options.credentials
    ? async () => options.credentials as AwsCredentialIdentity
    : defaultProvider();
  const region = options.region
    ? async () => options.region as string
    : loadConfig(NODE_REGION_CONFIG_OPTIONS, NODE_REGION_CONFIG_FILE_OPTIONS);
  const retries = new StandardRetryStrategy({
    maxAttempts: 3,
    ...(service.retryBaseDelay === undefined ? {} : { baseDelay: service.retryBaseDelay }),
  });
  let signer: { url: URL; sign: SignatureV4 } | undefined;

  const signerFor = async () => {
    if (signer) return signer;
    const name = await region();
    if (!name) throw new Error(`Region is missing for ${service.id}: set AWS_REGION.`);
    signer = {
      url: endpointOf(service, name, options.endpoint),
      sign: new SignatureV4({ service: service.signingName, region: name, credentials, sha256: Sha256 }),
    };
    return signer;
  };

  /** One attempt: sign, send, read; an error answer throws its refusal. */
  const attempt = async ({ headers, body, protocol, answer }: Call) => {
    const { url, sign } = await signerFor();
    const request = new HttpRequest({
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      method: 'POST',
      path: url.pathname || '/',
      headers: {
        host: url.host,
        'content-length': String(Buffer.byteLength(body)),
        ...headers,
      },
      body,
    });
    const { response } = await transport.handle((await sign.sign(request)) as HttpRequest);
    const text = await bodyText(response.body);
    if (response.statusCode >= 300) {
      const error = refusal(service, response, text, protocol);
      error.retryAfterHint = getRetryAfterHint(response);
      throw error;
    }
    // A Query answer names its action (`<SendEmailResponse …>`): anything else (a proxy's page,
    // a wrong endpoint's 200) is not a sent message. The SDK fails to parse it; so does this.
    if (
      answer !== undefined &&
      !new RegExp(`^(?:<\\?xml[^>]*>)?\\s*<${answer}[\\s>]`).test(text.trimStart())
    ) {
      throw new AwsCallError(
        'UnexpectedResponse',
        `The answer is not a ${answer}.`,
        response.statusCode,
        undefined,
      );
    }
    return text;
  };

  /** Attempts until one answers, the error is not worth a retry, or the strategy says stop. */
  const send = async (call: Call) => {
    let token = await retries.acquireInitialRetryToken(service.id);
    let attempts = 0;
    for (;;) {
      attempts += 1;
      try {
        const text = await attempt(call);
        retries.recordSuccess(token);
        return text;
      } catch (error) {
        const hint = error instanceof AwsCallError ? error.retryAfterHint : undefined;
        if (error instanceof AwsCallError) error.$metadata.attempts = attempts;
        try {
          token = await retries.refreshRetryTokenForRetry(token, {
            errorType: errorType(error),
            ...(hint ? { retryAfterHint: hint } : {}),
          });
        } catch {
          throw error;
        }
      }
    }
  };

  return {
    async query(action, version, params) {
      const body = Object.entries({ Action: action, Version: version, ...params })
        .map(([key, value]) => `${formEncode(key)}=${formEncode(value)}`)
        .join('&');
      return send({
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
        protocol: 'query',
        answer: `${action}Response`,
      });
    },
    async json(target, input) {
      const text = await send({
        headers: {
          'content-type': `application/x-amz-json-${service.jsonVersion ?? '1.1'}`,
          'x-amz-target': target,
        },
        body: JSON.stringify(input, base64Binary),
        protocol: 'json',
      });
      // An empty answer, or `null`, is an output without members, as the SDK reads it.
      return (text === '' ? null : JSON.parse(text, service.reviver)) ?? {};
    },
    destroy() {
      own?.destroy();
    },
  };
}
