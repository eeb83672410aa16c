/**
 * The local stand-in for API Gateway (HTTP API, payload format 2.0). It matches the route
 * table, runs rekey's token authorizer on admin routes as the stack does, builds the same
 * event and Lambda context, and calls the very same handler functions.
 */
import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { JWTPayload } from 'jose';
import { HTTP_FUNCTION_TIMEOUT_SECONDS } from '#functions/contracts.ts';
import { type HttpMethod, type RouteDefinition as RouteRow, routePaths } from '#functions/routes.ts';
import { createHandler as createTokenAuthorizer } from '#functions/token-authorizer/authorizer.ts';
import type { HttpEvent } from '#http/request.ts';
import { notifyGatewayObservers } from './gateway-observers.ts';

/** What the gateway routes by: a route table row without what only the stack builds from (access, the argon2 binding). */
type RouteDefinition = Omit<RouteRow, 'access' | 'hashes' | 'checksChosenPasswords'>;

export type RouteHandler = (event: HttpEvent, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

export interface GatewayOptions {
  port: number;
  routes: readonly RouteDefinition[];
  handlers: ReadonlyMap<string, RouteHandler>;
  /** Verifies a bearer token; rejects when it is not valid. */
  verifyToken: (token: string) => Promise<JWTPayload>;
  /** One line per request (route template and status, never a query string). */
  accessLog?: (line: string) => void;
  /** The OpenAPI document, served at `GET /openapi.json` as API Gateway does in AWS. */
  openApi?: { path: string; text: string };
}

export { type GatewayExchange, observeGatewayResponses } from './gateway-observers.ts';

/** API Gateway's own payload limit for HTTP APIs. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
/** Lambda timeout of every HTTP function (the CDK stack sets the same). */
export const FUNCTION_TIMEOUT_MS = HTTP_FUNCTION_TIMEOUT_SECONDS * 1000;

export interface Gateway {
  url: string;
  server: Server;
  close(): Promise<void>;
}

interface Match {
  route: RouteDefinition;
  /** The path template matched: the row's own, or one it `alsoServes`. */
  path: string;
  pathParameters: Record<string, string>;
}

/** One path of a row, compiled; a row's own path may answer other methods, the others never. */
interface Matcher {
  route: RouteDefinition;
  path: string;
  methods: readonly HttpMethod[];
  answersOtherMethods: boolean;
  regex: RegExp;
  names: string[];
}

/** Starts the gateway on 127.0.0.1:`port` (0 picks a free port). */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const matchers: Matcher[] = options.routes.flatMap((route) =>
    routePaths(route).map(({ path, methods }, index) => ({
      route,
      path,
      methods,
      answersOtherMethods: index === 0 && route.answersOtherMethods,
      ...compile(path),
    })),
  );
  const tokenAuthorizer = createTokenAuthorizer(options.verifyToken);

  const server = createServer((req, res) => {
    const started = performance.now();
    void serve(req, options, matchers, tokenAuthorizer)
      .catch(() => ({
        result: gatewayError(500, 'Internal Server Error'),
        routeKey: 'failed',
        path: undefined,
      }))
      .then(({ result, routeKey, path }) => {
        write(res, result);
        options.accessLog?.(`${routeKey} ${result.statusCode} ${Math.round(performance.now() - started)}ms`);
        notifyGatewayObservers({
          method: (req.method ?? 'GET').toUpperCase(),
          path,
          result,
          routes: options.routes,
        });
      });
  });
  // Keep-alive connections from load tools must not hold the process open on close.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function serve(
  req: IncomingMessage,
  options: GatewayOptions,
  matchers: readonly Matcher[],
  tokenAuthorizer: TokenAuthorizer,
): Promise<{ result: APIGatewayProxyStructuredResultV2; routeKey: string; path: string | undefined }> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const method = (req.method ?? 'GET').toUpperCase();
  if (options.openApi && method === 'GET' && url.pathname === options.openApi.path) {
    const result = openApiResponse(options.openApi.text);
    return { result, routeKey: `GET ${options.openApi.path}`, path: options.openApi.path };
  }
  const match = findRoute(matchers, url.pathname, method);
  if (!match)
    return { result: gatewayError(404, 'Not Found'), routeKey: `${method} (no route)`, path: undefined };
  if (match === 'bad-path')
    return { result: gatewayError(400, 'Bad Request'), routeKey: `${method} (bad path)`, path: undefined };
  const { route, path, pathParameters } = match;
  const routeKey = `${route.methods.includes(method as never) || path !== route.path ? method : 'ANY'} ${path}`;

  const body = await readBody(req);
  if (body === undefined) return { result: gatewayError(413, 'Request Entity Too Large'), routeKey, path };

  const authorizer = route.auth === 'admin' ? await authorize(req, tokenAuthorizer) : undefined;

  const handler = options.handlers.get(route.operation);
  if (!handler) return { result: gatewayError(500, 'Internal Server Error'), routeKey, path };
  const requestId = randomBytes(12).toString('base64url');
  const event = buildEvent(req, url, method, routeKey, pathParameters, body, requestId, authorizer);
  const result = await withTimeout(handler(event, lambdaContext(route, requestId)));
  return {
    result: { ...result, headers: { ...result.headers, 'apigw-requestid': requestId } },
    routeKey,
    path,
  };
}

/** The OpenAPI document, as the stack's document function answers it (functions/openapi-document). */
function openApiResponse(text: string): APIGatewayProxyStructuredResultV2 {
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: text };
}

function compile(path: string): { regex: RegExp; names: string[] } {
  const names: string[] = [];
  const pattern = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_m, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { regex: new RegExp(`^${pattern}$`), names };
}

function findRoute(
  matchers: readonly Matcher[],
  pathname: string,
  method: string,
): Match | 'bad-path' | undefined {
  for (const { route, path, methods, answersOtherMethods, regex, names } of matchers) {
    const found = regex.exec(pathname);
    if (!found) continue;
    if (!methods.includes(method as never) && !answersOtherMethods) continue;
    const pathParameters: Record<string, string> = {};
    try {
      names.forEach((name, i) => {
        pathParameters[name] = decodeURIComponent(found[i + 1] ?? '');
      });
    } catch {
      return 'bad-path';
    }
    return { route, path, pathParameters };
  }
  return undefined;
}

type Authorizer = { lambda: Record<string, string> };
type TokenAuthorizer = ReturnType<typeof createTokenAuthorizer>;

/**
 * As in the stack: every admin route runs rekey's token authorizer (the very same function,
 * over the development key) and passes its context on. It never refuses: a request without
 * a valid token reaches the function, which answers 401 in the route's dialect.
 */
async function authorize(req: IncomingMessage, tokenAuthorizer: TokenAuthorizer): Promise<Authorizer> {
  const { context } = await tokenAuthorizer({ headers: lowerCaseHeaders(req) });
  return { lambda: context ?? { authenticated: 'false' } };
}

function lowerCaseHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_PAYLOAD_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const TEXT_TYPES = /^(text\/|application\/(json|x-www-form-urlencoded|xml|javascript))/i;

function buildEvent(
  req: IncomingMessage,
  url: URL,
  method: string,
  routeKey: string,
  pathParameters: Record<string, string>,
  body: Buffer,
  requestId: string,
  authorizer: Authorizer | undefined,
): HttpEvent {
  const headers = lowerCaseHeaders(req);
  const queryStringParameters: Record<string, string> = {};
  for (const [key, value] of url.searchParams) {
    queryStringParameters[key] =
      key in queryStringParameters ? `${queryStringParameters[key]},${value}` : value;
  }
  const contentType = headers['content-type'] ?? '';
  // A text body that is not well-formed UTF-8 goes as base64, bytes intact, so the function
  // can refuse it rather than receive a repaired (U+FFFD) copy.
  const isText = (contentType === '' || TEXT_TYPES.test(contentType)) && isUtf8(body);
  const now = Date.now();
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(url.search ? { queryStringParameters } : {}),
    ...(Object.keys(pathParameters).length ? { pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: '127.0.0.1',
      domainPrefix: '127',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey,
      stage: '$default',
      time: new Date(now).toISOString(),
      timeEpoch: now,
      ...(authorizer ? { authorizer } : {}),
    },
    ...(body.length ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0 && !isText,
  } as HttpEvent;
}

function lambdaContext(route: RouteDefinition, requestId: string): Context {
  const deadline = Date.now() + FUNCTION_TIMEOUT_MS;
  const functionName = `rekey-${route.operation}`;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** API Gateway's own error body, for requests it refuses before any function runs. */
function gatewayError(statusCode: number, message: string): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message }) };
}

function write(res: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  const body = result.isBase64Encoded
    ? Buffer.from(result.body ?? '', 'base64')
    : Buffer.from(result.body ?? '');
  res.writeHead(result.statusCode ?? 200, { ...result.headers, 'content-length': String(body.length) });
  res.end(body);
}

/** Like Lambda, a function that runs past its timeout fails (API Gateway answers 503). */
async function withTimeout(
  run: Promise<APIGatewayProxyStructuredResultV2>,
): Promise<APIGatewayProxyStructuredResultV2> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<APIGatewayProxyStructuredResultV2>((resolve) => {
    timer = setTimeout(() => resolve(gatewayError(503, 'Service Unavailable')), FUNCTION_TIMEOUT_MS);
  });
  try {
    return await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
