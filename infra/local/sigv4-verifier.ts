/**
 * Who may use the embedded AWS-compatible endpoint: only a request addressed to it by name
 * (Host `127.0.0.1:PORT` or `localhost:PORT`: a DNS-rebinding page's Host is its own name)
 * and signed with SigV4 by the data folder's credentials (endpoint-credentials.ts).
 *
 * The signature is not recomputed by hand: Smithy's SignatureV4, the signer of the AWS SDK
 * itself, signs the request as received (its signed headers, its body, its date, region and
 * service) with the expected secret, and the two signatures are compared in constant time.
 * Around that: the access key id must be the data folder's, `host` and `x-amz-date` must be
 * signed, the date must be within 5 minutes of the endpoint's clock, and an
 * `x-amz-content-sha256` header (which the signer would take on trust) must be the body's hash.
 */
import { createHash, createHmac, type Hash, type Hmac, timingSafeEqual } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';
import type { LocalCredentials } from './endpoint-credentials.ts';
import { type AwsJsonReply, awsError } from './secrets-manager-api.ts';

/** How far a request's `x-amz-date` may be from the endpoint's clock. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** Headers that name the operation: when present, they must be signed. */
const BOUND_HEADERS = ['x-amz-target', 'content-type'] as const;

/** What the verifier reads of a request: Node's lower-cased headers, its URL and its body. */
export interface ReceivedRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([A-Za-z0-9]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

const refuse = (type: string, message: string): AwsJsonReply => awsError(type, message, 403);

/**
 * A refusal for a request not addressed to the endpoint by name on its port `port`, checked
 * before its body is read (a DNS-rebinding page costs the endpoint nothing).
 */
export function addressRefusal(
  request: Pick<ReceivedRequest, 'headers'>,
  port: number,
): AwsJsonReply | undefined {
  const host = header(request, 'host');
  if (host === `127.0.0.1:${port}` || host === `localhost:${port}`) return undefined;
  return refuse(
    'AccessDeniedException',
    `The local endpoint answers only requests addressed to 127.0.0.1:${port} or localhost:${port}.`,
  );
}

/** Checks the signature of a request `addressRefusal` let through against `credentials`. */
export function createRequestVerifier(options: {
  credentials: LocalCredentials;
  now?: () => number;
}): (request: ReceivedRequest, body: Buffer) => Promise<AwsJsonReply | undefined> {
  const { credentials } = options;
  const now = options.now ?? Date.now;
  const expectedKeyId = Buffer.from(credentials.accessKeyId, 'utf8');

  return async (request, body) => {
    const authorization = header(request, 'authorization');
    if (authorization === undefined) {
      return refuse('MissingAuthenticationTokenException', 'Request is missing Authentication Token');
    }
    const parsed = AUTHORIZATION.exec(authorization);
    if (!parsed) {
      return refuse(
        'IncompleteSignatureException',
        'The Authorization header is not a SigV4 (AWS4-HMAC-SHA256) signature.',
      );
    }
    const [, keyId = '', scopeDate = '', region = '', service = '', signedList = '', signature = ''] = parsed;
    const keyBytes = Buffer.from(keyId, 'utf8');
    if (keyBytes.length !== expectedKeyId.length || !timingSafeEqual(keyBytes, expectedKeyId)) {
      return refuse(
        'UnrecognizedClientException',
        'The security token included in the request is invalid (sign with the credentials in the data folder; see `rekey env`).',
      );
    }
    const signedHeaders = signedList.split(';');
    if (!signedHeaders.includes('host') || !signedHeaders.includes('x-amz-date')) {
      return refuse('InvalidSignatureException', 'The signature must cover the host and x-amz-date headers.');
    }
    // The operation is in x-amz-target (and the body's type): a signature that leaves them out
    // could be replayed as another operation, e.g. a DescribeSecret as a GetSecretValue.
    const unsigned = BOUND_HEADERS.find(
      (name) => header(request, name) !== undefined && !signedHeaders.includes(name),
    );
    if (unsigned !== undefined) {
      return refuse(
        'InvalidSignatureException',
        'The signature must cover the x-amz-target and content-type headers.',
      );
    }
    const amzDate = header(request, 'x-amz-date') ?? '';
    const date = parseAmzDate(amzDate);
    if (!date || !amzDate.startsWith(scopeDate)) {
      return refuse(
        'InvalidSignatureException',
        'The x-amz-date header is missing or does not match the credential scope.',
      );
    }
    if (Math.abs(now() - date.getTime()) > MAX_CLOCK_SKEW_MS) {
      return refuse(
        'InvalidSignatureException',
        'Signature expired: x-amz-date is more than 5 minutes from the endpoint’s clock.',
      );
    }
    const bodyHash = createHash('sha256').update(body).digest('hex');
    const claimedHash = header(request, 'x-amz-content-sha256');
    if (claimedHash !== undefined && claimedHash !== bodyHash) {
      return refuse(
        'InvalidSignatureException',
        'The x-amz-content-sha256 header is not the hash of the body.',
      );
    }

    const url = new URL(request.url, 'http://local');
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      return refuse('InvalidSignatureException', 'The request path is not valid percent-encoding.');
    }
    const headers: Record<string, string> = {};
    for (const name of signedHeaders) {
      const value = header(request, name);
      if (value === undefined) {
        return refuse('InvalidSignatureException', 'A header the signature names is missing.');
      }
      headers[name] = value;
    }
    const query: Record<string, string | string[]> = {};
    for (const [name, value] of url.searchParams) {
      const seen = query[name];
      query[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
    }
    // applyChecksum: false, or the signer would add an x-amz-content-sha256 header that clients
    // such as botocore (the AWS CLI) neither send nor sign; when one is signed it is in `headers`.
    const signer = new SignatureV4({
      credentials,
      region,
      service,
      sha256: NodeSha256,
      applyChecksum: false,
    });
    const signed = await signer.sign(
      {
        method: request.method,
        protocol: 'http:',
        // The Host header (addressRefusal let only 127.0.0.1:PORT or localhost:PORT through).
        hostname: (header(request, 'host') ?? '').replace(/:\d+$/, ''),
        port: Number((header(request, 'host') ?? '').replace(/^.*:/, '')),
        path,
        query,
        headers,
        body,
      },
      {
        signingDate: date,
        signingRegion: region,
        signingService: service,
        signableHeaders: new Set(signedHeaders),
      },
    );
    const expected = /Signature=([0-9a-f]{64})$/.exec(String(signed.headers.authorization ?? ''))?.[1];
    if (!expected || !timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(signature, 'hex'))) {
      return refuse(
        'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided.',
      );
    }
    return undefined;
  };
}

function header(request: Pick<ReceivedRequest, 'headers'>, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function parseAmzDate(text: string): Date | undefined {
  const match = AMZ_DATE.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  const date = new Date(Date.UTC(y ?? 0, (mo ?? 1) - 1, d, h, mi, s));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** SHA-256 and HMAC-SHA-256 from node:crypto, in the shape Smithy's signer takes. */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset(): void {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.secret));
  }
}

function bytes(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}
