/**
 * Hostile input, over the real HTTP path: for every route of the route table, a table of
 * requests an attacker (or a broken client) might send, each of which must be refused with a
 * 4xx in the route's own dialect and a message that says what is wrong — never a 5xx, never
 * a write to the directory or the vault, never a hash computed, never a password echoed.
 *
 * Requests go through `node:http` (no URL normalisation, no headers added behind our back)
 * or, for bytes no HTTP client will send (CR, LF, NUL inside a header), a raw socket. A few
 * requests never reach a route: Node's HTTP parser refuses a broken header line or an
 * oversized request line, and the gateway's router resolves `..` path segments (as every
 * URL parser does) so the route no longer matches. Those cases are marked `layer: 'http'`:
 * they assert the HTTP layer's refusal (and still that nothing was written), since no
 * dialect can be spoken by a route that was never reached.
 *
 * Unicode policy (see functions/http/text.ts): ids are ASCII (`[A-Za-z0-9][A-Za-z0-9._-]*`);
 * names (username, tenancy) are refused unless in NFKC form — decomposed accents, full-width
 * look-alikes and exotic spaces are a 400, not silently normalised; passwords are taken
 * verbatim but may not hold control, format (bidi), unassigned or space characters or lone
 * surrogates.
 */
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '#adapters/runtime.ts';
import { newInstance, newRealm, newUser } from '#core/factories.ts';
import { ROUTES } from '#functions/routes.ts';
import { ADMIN_SCOPE, REALM_CLAIM } from '#http/admin.ts';
import { MAX_BODY_BYTES } from '#http/request.ts';
import { DEV_AUDIENCE, DEV_ISSUER } from '#infra/local/dev-tokens.ts';
import { argon2Counter } from '#test/support/argon2-counter.ts';
import { scanTable } from '#test/support/dynamodb.ts';
import { startTestApi, type TestApi } from '#test/support/test-api.ts';
import { createTestConnector } from '#test/support/ticketing-systems.ts';

type DialectName = 'oci' | 'huawei' | 'alibaba' | 'rekey';

/** Passwords the cases send: none may come back in a response or reach a log line. */
const HOSTILE_PASSWORDS = ['Hostile-Current-Pw1', 'Hostile-New-Pass-2', 'Hostile#Ddm-Pw3', 'Hostile!Ali-Pw4'];
const [CURRENT, NEW, DDM_PASSWORD, ALI_PASSWORD] = HOSTILE_PASSWORDS as [string, string, string, string];
const ONE_MB = 'P'.repeat(1024 * 1024);

interface HostileCase {
  /** What is refused; the test name. */
  what: string;
  method?: string;
  /** Path and query, sent byte for byte. */
  target?: string;
  /** Added to the route's defaults; `null` removes a default (e.g. the content type). */
  headers?: Record<string, string | string[] | null>;
  body?: string | Buffer;
  /** A raw header line sent through a socket (for CR, LF and NUL, which clients refuse to send). */
  rawHeaderLine?: string;
  /** Headers that need a fresh token. */
  lazyHeaders?: () => Promise<Record<string, string>>;
  /** The token to send: the route's valid admin token by default. */
  token?: () => Promise<string | undefined>;
  status: number;
  /** The dialect's error code; a default per dialect covers 400s. */
  code?: string | RegExp;
  /** What the message must say, so a caller can fix the request. */
  message?: RegExp;
  /** What the caller sent that the answer must not repeat (unknown names, values). */
  notEchoed?: string[];
  /** Refused by Node's HTTP parser or the gateway's router, before any route (see the header). */
  layer?: 'http';
}

interface RouteTable {
  label: string;
  dialect: DialectName;
  method: string;
  target: string;
  /** How the token travels: `Authorization: Bearer` or Huawei's `X-Auth-Token`. */
  tokenHeader: 'authorization' | 'x-auth-token' | undefined;
  contentType: string | undefined;
  cases: HostileCase[];
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies loosely
  json: any;
}

let t: TestApi;
let reader: Runtime;
let port: number;
const argon2 = argon2Counter();
const logs: string[] = [];
let restoreLogs: () => void = () => undefined;
let prototypeKeys: Record<string, string[]>;
/** The inbound secret of the ticket intake's connector (a Jira one: the secret travels in a header). */
let intakeSecret = '';

/** Captures what the process writes: both streams, and the console (vitest routes it around them). */
function captureLogs(): () => void {
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array) => {
      logs.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }) as typeof stream.write;
  }
  const methods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
  const consoleOriginals = methods.map((name) => [name, console[name]] as const);
  for (const [name] of consoleOriginals) {
    console[name] = (...args: unknown[]) => {
      logs.push(args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' '));
    };
  }
  return () => {
    streams.forEach((stream, i) => {
      stream.write = originals[i] as typeof stream.write;
    });
    for (const [name, original] of consoleOriginals) console[name] = original;
  };
}

const PROTOTYPES: Record<string, object> = {
  Object: Object.prototype,
  Array: Array.prototype,
  Function: Function.prototype,
  String: String.prototype,
};

function ownKeys(): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(PROTOTYPES).map(([name, proto]) => [name, Reflect.ownKeys(proto).map(String).sort()]),
  );
}

beforeAll(async () => {
  prototypeKeys = ownKeys();
  restoreLogs = captureLogs();
  t = await startTestApi({
    customizeRuntime: (_operation, runtime) => ({
      ...runtime,
      deps: { ...runtime.deps, hasher: argon2.wrap(runtime.deps.hasher) },
    }),
  });
  port = Number(new URL(t.url).port);
  reader = t.runtime();
  const directory = reader.deps.directory;
  await directory.createRealm(newRealm('other', 'othercorp'));
  await directory.createUser(newUser({ realmId: 'other', userId: 'u-other', username: 'olga' }));
  // A DDM instance: a hostile request that slipped through would create its administrator.
  await directory.saveInstance(newInstance({ realmId: 'demo', instanceId: 'ddm-1' }), undefined);
  intakeSecret = (
    await createTestConnector(
      t,
      { id: 'hostile-jsm', kind: 'jira', realm: 'demo', replyUrl: 'https://jsm.example.com' },
      '/nonexistent',
    )
  ).inboundSecret;
  // alice holds a known password, so a change-password request that slipped through would write.
  const alice = await directory.getUser('u-alice');
  if (!alice) throw new Error('the demo realm has no u-alice');
  await directory.saveUser(
    {
      ...alice,
      credential: {
        hash: await reader.deps.hasher.hash(CURRENT),
        kind: 'PERMANENT',
        setAt: new Date().toISOString(),
      },
      version: alice.version + 1,
    },
    alice.version,
  );
  argon2.reset();
});

afterAll(async () => {
  restoreLogs();
  await t?.close();
});

/** Everything rekey stores: every item of the table and every secret of the vault. */
async function state(): Promise<{ table: string[]; vault: string[] }> {
  const Items = await scanTable(t.api.clients, reader.settings.tableName);
  const vault = t.api.backend?.vault;
  if (!vault) throw new Error('the test API has no embedded backend');
  return {
    table: Items.map((item) => JSON.stringify(item)).sort(),
    vault: vault.list('').map((secret) => JSON.stringify(secret)),
  };
}

// ---------------------------------------------------------------------------------------
// Sending

function parseAnswer(status: number, headers: Answer['headers'], text: string): Answer {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status, headers, text, json };
}

/** One request through node:http: the target and the headers exactly as given. */
function sendHttp(method: string, target: string, headers: OutgoingHttpHeaders, body?: string | Buffer) {
  return new Promise<Answer>((resolve, reject) => {
    const bytes = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path: target,
        agent: false,
        headers: { ...headers, ...(bytes ? { 'content-length': String(bytes.length) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve(parseAnswer(res.statusCode ?? 0, res.headers, Buffer.concat(chunks).toString('utf8'))),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(bytes);
  });
}

/** One request written byte for byte to a socket; for header bytes no client will send. */
function sendRaw(method: string, target: string, headerLines: string[], body = ''): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('connect', () =>
      socket.write(
        Buffer.from(
          `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${headerLines.join('')}\r\n${body}`,
          'latin1',
        ),
      ),
    );
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers: Answer['headers'] = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve(parseAnswer(Number(statusLine.split(' ')[1]), headers, rest.join('\r\n\r\n')));
    });
  });
}

async function send(route: RouteTable, c: HostileCase): Promise<Answer> {
  const method = c.method ?? route.method;
  const target = c.target ?? route.target;
  const token = c.token ? await c.token() : route.tokenHeader ? await t.token() : undefined;
  const defaults: Record<string, string | string[] | null> = {};
  if (token !== undefined && route.tokenHeader === 'authorization')
    defaults.authorization = `Bearer ${token}`;
  if (token !== undefined && route.tokenHeader === 'x-auth-token') defaults['x-auth-token'] = token;
  if (c.body !== undefined && route.contentType) defaults['content-type'] = route.contentType;
  const merged = { ...defaults, ...c.headers, ...(await c.lazyHeaders?.()) };
  if (c.rawHeaderLine !== undefined) {
    const lines = Object.entries(merged)
      .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
      .map(([name, value]) => `${name}: ${value}\r\n`);
    return sendRaw(method, target, [...lines, c.rawHeaderLine]);
  }
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(merged)) if (value !== null) headers[name] = value;
  return sendHttp(method, target, headers, c.body);
}

// ---------------------------------------------------------------------------------------
// Tokens

const HOUR = 3600;

/** A token signed with the development key, with claims of our choosing. */
async function signed(claims: Record<string, unknown>, options: { exp?: number | false } = {}) {
  const jwt = new SignJWT({ scope: ADMIN_SCOPE, [REALM_CLAIM]: 'demo', ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: t.api.devKey.kid, typ: 'JWT' })
    .setSubject('admin@demo')
    .setIssuer(DEV_ISSUER)
    .setAudience(DEV_AUDIENCE)
    .setIssuedAt();
  if (options.exp !== false) jwt.setExpirationTime(options.exp ?? Math.floor(Date.now() / 1000) + HOUR);
  return jwt.sign(t.api.devKey.privateKey);
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Every way a token can fail; each must be the route's own 401. */
function tokenCases(status401Code: string): HostileCase[] {
  const as = (token: string | undefined) => async () => token;
  const cases: Array<[string, () => Promise<string | undefined>]> = [
    ['no token at all', as(undefined)],
    ['an expired token', () => t.token({ ttlSeconds: -60 })],
    ['a token for another audience', () => t.token({ audience: 'someone-else' })],
    ['a token from another issuer', () => t.token({ issuer: 'https://evil.example' })],
    ['a token that never expires (no exp claim)', () => signed({}, { exp: false })],
    [
      'a token whose claims were edited after signing',
      async () => {
        const [header, , signature] = (await t.token()).split('.');
        return `${header}.${b64({ sub: 'admin@demo', scope: ADMIN_SCOPE, [REALM_CLAIM]: 'other', exp: 9e9 })}.${signature}`;
      },
    ],
    [
      'a token forged with alg "none"',
      as(
        `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'admin@demo', scope: ADMIN_SCOPE, [REALM_CLAIM]: 'demo', iss: DEV_ISSUER, aud: DEV_AUDIENCE, exp: 9e9 })}.`,
      ),
    ],
    [
      'a token forged with HS256, a shared-secret algorithm',
      async () =>
        new SignJWT({ scope: ADMIN_SCOPE, [REALM_CLAIM]: 'demo' })
          .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
          .setSubject('admin@demo')
          .setIssuer(DEV_ISSUER)
          .setAudience(DEV_AUDIENCE)
          .setExpirationTime('1h')
          .sign(new TextEncoder().encode(t.api.devKey.kid)),
    ],
    ['garbage instead of a token', as('not-a-jwt')],
    ['a token of 9000 characters', as(`${'a'.repeat(4500)}.${'b'.repeat(4499)}`)],
  ];
  const refused: HostileCase[] = cases.map(([what, token]) => ({
    what,
    token,
    status: 401,
    code: status401Code,
  }));
  refused.push(
    {
      what: 'an empty Bearer scheme',
      token: as(undefined),
      headers: { authorization: 'Bearer ' },
      status: 401,
      code: status401Code,
    },
    {
      what: 'a valid token under the Basic scheme',
      token: as(undefined),
      lazyHeaders: async () => ({ authorization: `Basic ${await t.token()}` }),
      status: 401,
      code: status401Code,
    },
    {
      // Both genuine, for different admins: which one counts would be a guess.
      what: 'two different valid tokens, one per header',
      token: as(undefined),
      headers: {},
      lazyHeaders: async () => ({
        authorization: `Bearer ${await t.token({ subject: 'first-admin@demo' })}`,
        'x-auth-token': await t.token({ subject: 'second-admin@demo' }),
      }),
      status: 401,
      code: status401Code,
    },
  );
  // Refusals whose token is genuine: the function still answers in its dialect (403).
  refused.push({
    what: `a valid token without the ${ADMIN_SCOPE} scope`,
    token: () => t.token({ scopes: ['openid', 'rekey/read'] }),
    status: 403,
    message: /scope/,
  });
  return refused;
}

// ---------------------------------------------------------------------------------------
// Building blocks shared by the tables

const json = (value: unknown) => JSON.stringify(value);

const WRONG_TYPES: Array<[string, unknown]> = [
  ['a number', 12345],
  ['a boolean', true],
  ['an array', ['x']],
  ['an object', { x: 'y' }],
  ['null', null],
];

/** Every field, given every wrong JSON type in turn (the field's own type left out). */
function wrongTypes(valid: Record<string, unknown>, fields: string[]): HostileCase[] {
  return fields.flatMap((field) =>
    WRONG_TYPES.filter(([, value]) => typeof value !== typeof valid[field]).map(([label, value]) => ({
      what: `${label} as ${field}`,
      body: json({ ...valid, [field]: value }),
      status: 400,
      message: new RegExp(`${field} must be`),
    })),
  );
}

/**
 * Query parameters named to pollute a prototype (`__proto__`, `constructor[prototype]`), refused
 * with 400 by the shared query parser; `rest` is a valid rest of the route's query.
 */
function pollutingQueryCases(query: (params: string) => string, rest: string): HostileCase[] {
  return [
    {
      what: 'a query parameter __proto__[polluted]',
      target: query('__proto__[polluted]=yes&username=alice'),
      status: 400,
      message: /__proto__/,
    },
    {
      what: 'a query parameter constructor[prototype][polluted]',
      target: query('constructor[prototype][polluted]=yes'),
      status: 400,
      message: /constructor/,
    },
    {
      what: 'a query parameter __proto__',
      target: query(`__proto__=x&${rest}`),
      status: 400,
      message: /__proto__/,
    },
  ];
}

/** The JSON body's shape: syntax, top-level types, keys, size and media type. */
function bodyShapeCases(valid: Record<string, unknown>, options: { jsonOnly?: boolean } = {}): HostileCase[] {
  const validText = json(valid);
  const inner = validText.slice(1, -1);
  const comma = inner ? ',' : '';
  const cases: HostileCase[] = [
    { what: 'malformed JSON', body: '{"a":', status: 400, message: /JSON/ },
    { what: 'JSON with a trailing comma', body: validText.replace(/}$/, ',}'), status: 400, message: /JSON/ },
    { what: 'a top-level null', body: 'null', status: 400 },
    { what: 'a top-level array', body: json([valid]), status: 400 },
    { what: 'a top-level string', body: json(validText), status: 400 },
    { what: 'a top-level number', body: '42', status: 400 },
    {
      what: 'a duplicate field (not named)',
      body: `{${inner}${comma}"Echo-Dup":1,"Echo-Dup":2}`,
      status: 400,
      message: /more than once/,
      notEchoed: ['Echo-Dup'],
    },
    {
      what: 'an unknown field (counted, not named)',
      body: json({ ...valid, isAdmin: true }),
      status: 400,
      message: /1 unknown field/,
      notEchoed: ['isAdmin'],
    },
    {
      what: 'two unknown fields (counted, not named)',
      body: json({ ...valid, 'Echo-Field-1': 'Echo-Value-1', 'Echo-Field-2': 2 }),
      status: 400,
      message: /2 unknown fields/,
      notEchoed: ['Echo-Field', 'Echo-Value'],
    },
    {
      what: 'a __proto__ key',
      body: `{${inner}${comma}"__proto__":{"polluted":"yes"}}`,
      status: 400,
      message: /__proto__/,
    },
    {
      what: 'a constructor.prototype key',
      body: `{${inner}${comma}"constructor":{"prototype":{"polluted":"yes"}}}`,
      status: 400,
      message: /constructor/,
    },
    {
      what: 'a __proto__ key written with escapes',
      body: `{"\\u005f_proto__":{}${comma}${inner}}`,
      status: 400,
      message: /__proto__/,
    },
    {
      what: 'nesting 40 levels deep',
      body: `{"a":${'['.repeat(40)}${']'.repeat(40)}}`,
      status: 400,
      message: /deeper/,
    },
    {
      what: 'nesting 7000 levels deep, within the size cap',
      body: `{"a":${'['.repeat(7000)}${']'.repeat(7000)}}`,
      status: 400,
      message: /deeper/,
    },
    {
      what: `a body over the ${MAX_BODY_BYTES}-byte cap`,
      body: json({ ...valid, pad: 'x'.repeat(MAX_BODY_BYTES) }),
      status: 400,
      message: /larger than/,
    },
    {
      what: 'a body that is not valid UTF-8',
      body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
      status: 400,
      message: /UTF-8/,
    },
    { what: 'a JSON body with a byte-order mark', body: `\ufeff${validText}`, status: 400, message: /JSON/ },
    {
      what: 'a JSON body sent as text/plain',
      body: validText,
      headers: { 'content-type': 'text/plain' },
      status: 400,
      message: /application\/json/,
    },
    {
      what: 'a JSON body sent as application/xml',
      body: validText,
      headers: { 'content-type': 'application/xml' },
      status: 400,
    },
    {
      what: 'a JSON body with no content type',
      body: validText,
      headers: { 'content-type': null },
      status: 400,
      message: /application\/json/,
    },
  ];
  if (options.jsonOnly !== false) {
    cases.push({
      what: 'a form body',
      body: new URLSearchParams(
        Object.keys(valid).length ? (valid as Record<string, string>) : { reset: 'True' },
      ).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      status: 400,
      message: /application\/json/,
    });
  }
  return cases;
}

/** A path id, made hostile in every way; `at` turns an id into the route's target. */
function pathIdCases(
  name: string,
  at: (id: string) => string,
  notFound: { status: number; code?: string | RegExp },
) {
  const cases: HostileCase[] = [
    {
      what: `${name} ".." (resolved away by the URL parser: no route matches)`,
      target: at('..'),
      status: 404,
      layer: 'http',
    },
    {
      what: `${name} "%2e%2e" (a dot segment too: no route matches)`,
      target: at('%2e%2e'),
      status: 404,
      layer: 'http',
    },
    {
      what: `${name} with an encoded lone surrogate (malformed UTF-8: the router refuses it)`,
      target: at('%ED%A0%80'),
      status: 400,
      layer: 'http',
    },
    {
      what: `${name} "../../etc/passwd", slashes encoded`,
      target: at('..%2F..%2Fetc%2Fpasswd'),
      status: 400,
      message: new RegExp(name),
    },
    { what: `${name} ending in "/.."`, target: at('u-alice%2F..'), status: 400, message: new RegExp(name) },
    { what: `${name} "%00"`, target: at('%00'), status: 400 },
    { what: `${name} with a NUL after a real id`, target: at('u-alice%00'), status: 400 },
    { what: `${name} "*"`, target: at('*'), status: 400 },
    {
      what: `${name} that is a foreign ARN`,
      target: at(encodeURIComponent('arn:aws:iam::123456789012:user/alice')),
      status: 400,
    },
    { what: `${name} of 300 characters`, target: at('a'.repeat(300)), status: 400, message: /at most/ },
    { what: `${name} of spaces`, target: at('%20%20'), status: 400 },
    { what: `${name} with a control character`, target: at('u-%07alice'), status: 400 },
    { what: `${name} with a bidi override (U+202E)`, target: at('u-%E2%80%AEecila'), status: 400 },
    { what: `${name} with a decomposed accent (NFD)`, target: at('jose%CC%81'), status: 400 },
    { what: `${name} with full-width look-alikes`, target: at('%EF%BD%81lice'), status: 400 },
    {
      what: `${name} that is a well-formed id nobody has`,
      target: at('ocid1.user.oc1..aaaanobody'),
      ...notFound,
    },
  ];
  return cases;
}

/** Header lines no HTTP client will send; Node's parser refuses them before any route. */
function brokenHeaderCases(header: string): HostileCase[] {
  return [
    {
      what: `${header} with a bare LF inside`,
      rawHeaderLine: `${header}: ab\ncd\r\n`,
      status: 400,
      layer: 'http',
    },
    {
      what: `${header} with a bare CR inside`,
      rawHeaderLine: `${header}: ab\rcd\r\n`,
      status: 400,
      layer: 'http',
    },
    {
      what: `${header} with a NUL inside`,
      rawHeaderLine: `${header}: ab\0cd\r\n`,
      status: 400,
      layer: 'http',
    },
    {
      what: `${header} folded onto a second line`,
      rawHeaderLine: `${header}: ab\r\n cd\r\n`,
      status: 400,
      layer: 'http',
    },
  ];
}

/**
 * Query parameters the route does not define, added to a request that is otherwise valid
 * (`target` carries the route's own query, if any): a 400 in the dialect, nothing written,
 * nothing of the parameter repeated. `finding` is issue 9's own example for the route.
 */
function unknownQueryCases(target: string, finding: string): HostileCase[] {
  const join = (extra: string) => `${target}${target.includes('?') ? '&' : '?'}${extra}`;
  return [
    { what: `an unknown query parameter ${finding}`, target: join(finding) },
    {
      what: 'an unknown query parameter and value (not repeated)',
      target: join('Echo-Param-7=Echo-Value-7'),
      notEchoed: ['Echo-Param', 'Echo-Value'],
    },
    { what: 'an unknown query parameter with no value', target: join('Echo-Flag'), notEchoed: ['Echo-Flag'] },
    { what: 'a method override in the query', target: join('_method=DELETE') },
    {
      what: 'an unknown query parameter given twice (not named)',
      target: join('Echo-Twice=1&Echo-Twice=2'),
      message: /more than once/,
      notEchoed: ['Echo-Twice'],
    },
  ].map((c) => ({ message: /unknown parameter/, ...c, status: 400 }));
}

/** A UTF-8 string as the latin1 "characters" node:http writes byte for byte. */
const utf8Bytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

// ---------------------------------------------------------------------------------------
// The tables, one per route

function uiPasswordTable(): RouteTable {
  const at = (id: string) => `/20160918/users/${id}/uiPassword`;
  const valid = {};
  const cases: HostileCase[] = [
    ...bodyShapeCases(valid),
    ...['userId', 'password', 'lifecycleState'].flatMap((field) =>
      WRONG_TYPES.map(([label, value]) => ({
        what: `a body field ${field} (${label}): the seed defines no body`,
        body: json({ [field]: value }),
        status: 400,
        message: /The request body has 1 unknown field/,
      })),
    ),
    {
      what: 'a 1 MB password in the body',
      body: json({ password: ONE_MB }),
      status: 400,
      message: /larger than/,
    },
    ...pathIdCases('userId', at, { status: 404, code: 'NotAuthorizedOrNotFound' }),
    {
      what: 'a user of another realm (as unknown)',
      target: at('u-other'),
      status: 404,
      code: 'NotAuthorizedOrNotFound',
    },
    {
      what: 'an opc-retry-token of 65 characters',
      headers: { 'opc-retry-token': 'k'.repeat(65) },
      status: 400,
      message: /opc-retry-token/,
    },
    {
      what: 'an empty opc-retry-token',
      headers: { 'opc-retry-token': '' },
      status: 400,
      message: /opc-retry-token/,
    },
    {
      what: 'an opc-retry-token with a space',
      headers: { 'opc-retry-token': 'tok en' },
      status: 400,
      message: /opc-retry-token/,
    },
    {
      what: 'an opc-retry-token with a tab',
      headers: { 'opc-retry-token': 'tok\ten' },
      status: 400,
      message: /opc-retry-token/,
    },
    {
      what: 'an opc-retry-token in Latin-1',
      headers: { 'opc-retry-token': 'tökén' },
      status: 400,
      message: /opc-retry-token/,
    },
    {
      what: 'an opc-retry-token in UTF-8 with a bidi override',
      headers: { 'opc-retry-token': utf8Bytes('tok\u202eabc') },
      status: 400,
      message: /opc-retry-token/,
    },
    {
      what: 'two opc-retry-token headers',
      headers: { 'opc-retry-token': ['first', 'second'] },
      status: 400,
      message: /opc-retry-token/,
    },
    ...brokenHeaderCases('opc-retry-token'),
    ...unknownQueryCases(at('u-alice'), 'userId=u-bob'),
    ...tokenCases('NotAuthenticated'),
  ];
  return {
    label: 'POST /20160918/users/{userId}/uiPassword (OCI)',
    dialect: 'oci',
    method: 'POST',
    target: at('u-alice'),
    tokenHeader: 'authorization',
    contentType: 'application/json',
    cases,
  };
}

function changePasswordTable(): RouteTable {
  const target = '/20160918/changepassword';
  const valid = { username: 'alice', currentPassword: CURRENT, newPassword: NEW };
  const withField = (field: string, value: unknown) => json({ ...valid, [field]: value });
  const query = (params: string) => `${target}?${params}`;
  const textCases: Array<[string, string, string, RegExp?]> = [
    ['username', 'an empty username', '', /empty/],
    ['username', 'a whitespace-only username', '   ', /space/],
    ['username', 'a username with a leading space', ' alice', /space/],
    ['username', 'a username of 256 characters', 'a'.repeat(256), /at most/],
    ['username', 'a username with a NUL', 'ali\u0000ce'],
    ['username', 'a username with a control character', 'ali\u0007ce'],
    ['username', 'a username with a bidi override (U+202E)', '\u202eecila'],
    ['username', 'a username with a zero-width space', 'al\u200bice'],
    ['username', 'a username with a zero-width joiner', 'al\u200dice'],
    ['username', 'a username with a right-to-left mark', 'alice\u200f'],
    ['username', 'a username with a lone surrogate', 'ali\ud800ce'],
    ['username', 'a username with a no-break space', 'ali\u00a0ce'],
    ['username', 'a username with a decomposed accent (NFD)', 'jose\u0301', /NFKC/],
    ['username', 'a full-width look-alike username', '\uff41\uff4c\uff49\uff43\uff45', /NFKC/],
    ['currentPassword', 'an empty currentPassword', '', /empty/],
    ['currentPassword', 'a whitespace-only currentPassword', '    '],
    [
      'currentPassword',
      'a currentPassword of 257 characters (under the body cap)',
      'P'.repeat(257),
      /at most/,
    ],
    [
      'currentPassword',
      'a currentPassword of 10 000 characters (under the body cap)',
      'P'.repeat(10_000),
      /at most/,
    ],
    ['currentPassword', 'a currentPassword with a NUL', `${CURRENT}\u0000`],
    ['currentPassword', 'a currentPassword with a bidi override', `${CURRENT}\u202e`],
    ['currentPassword', 'a currentPassword with a lone surrogate', `${CURRENT}\udc00`],
    ['newPassword', 'a whitespace-only newPassword', '        '],
    ['newPassword', 'a newPassword with a control character', `${NEW}\u001b`],
    ['newPassword', 'a newPassword with a bidi isolate (U+2066)', `${NEW}\u2066`],
    ['newPassword', 'a newPassword with a zero-width joiner', `${NEW}\u200d`],
    ['newPassword', 'a newPassword with a lone surrogate', `${NEW}\ud83d`],
    ['tenancy', 'an empty tenancy', '', /empty/],
    ['tenancy', 'a tenancy with a bidi override', 'demo\u202e'],
    ['tenancy', 'a full-width tenancy', '\uff44\uff45\uff4d\uff4f'],
  ];
  const cases: HostileCase[] = [
    ...bodyShapeCases(valid),
    ...wrongTypes(valid, ['username', 'currentPassword', 'newPassword', 'tenancy']),
    ...['username', 'currentPassword', 'newPassword'].map((field) => {
      const { [field]: _dropped, ...rest } = valid as Record<string, unknown>;
      return {
        what: `a body without ${field}`,
        body: json(rest),
        status: 400,
        message: new RegExp(`${field} is required`),
      };
    }),
    ...textCases.map(([field, what, value, message]) => ({
      what,
      body: withField(field, value),
      status: 400,
      message: message ?? new RegExp(field),
    })),
    {
      what: 'a 1 MB currentPassword',
      body: withField('currentPassword', ONE_MB),
      status: 400,
      message: /larger than/,
    },
    {
      what: 'a 1 MB newPassword',
      body: withField('newPassword', ONE_MB),
      status: 400,
      message: /larger than/,
    },
    {
      what: 'parameters in both the query and the body',
      target: query('username=alice'),
      body: json(valid),
      status: 400,
      message: /not both/,
    },
    {
      what: 'a repeated query parameter',
      target: query('username=alice&username=bob&currentPassword=x&newPassword=y'),
      status: 400,
      message: /more than once/,
    },
    ...pollutingQueryCases(query, 'username=alice&currentPassword=a&newPassword=b'),
    {
      what: 'a query parameter that is not valid UTF-8',
      target: query(`username=alice&currentPassword=%FF${CURRENT}&newPassword=x`),
      status: 400,
      message: /UTF-8/,
    },
    {
      what: 'a query parameter with an encoded lone surrogate',
      target: query('username=%ED%A0%80&currentPassword=a&newPassword=b'),
      status: 400,
      message: /UTF-8/,
    },
    {
      what: 'a 10 000-character password in the query',
      target: query(`username=alice&currentPassword=${'P'.repeat(10_000)}&newPassword=x`),
      status: 400,
      message: /at most/,
    },
    ...unknownQueryCases(
      query(`username=alice&currentPassword=${CURRENT}&newPassword=${NEW}`),
      'tenancy2=demo',
    ),
    {
      what: 'an unknown query parameter beside a JSON body',
      target: query('isAdmin=true'),
      body: json(valid),
      status: 400,
      message: /unknown parameter/,
      notEchoed: ['isAdmin'],
    },
    {
      what: 'a 1 MB password in the query (the HTTP layer refuses the request line)',
      target: query(`username=alice&currentPassword=${ONE_MB}&newPassword=x`),
      status: 431,
      layer: 'http',
    },
  ];
  return {
    label: 'PUT /20160918/changepassword (OCI, public)',
    dialect: 'oci',
    method: 'PUT',
    target,
    tokenHeader: undefined,
    contentType: 'application/json',
    cases,
  };
}

function randomPasswordTable(): RouteTable {
  const at = (userId: string, project = 'demo', queryString = '?notification_type=email') =>
    `/v2/${project}/users/${userId}/random-password${queryString}`;
  const withQuery = (queryString: string) => at('u-alice', 'demo', queryString);
  const cases: HostileCase[] = [
    ...[
      ['an unknown channel', 'notification_type=sms'],
      ['an upper-case channel', 'notification_type=EMAIL'],
      ['a channel named twice', 'notification_type=email,email'],
      ['channels with a space', 'notification_type=email,%20phone'],
      ['a trailing comma', 'notification_type=email,'],
      ['an empty notification_type', 'notification_type='],
      ['a notification_type with a NUL', 'notification_type=email%00'],
      ['a notification_type with a bidi override', 'notification_type=email%E2%80%AE'],
      ['a notification_type of 300 characters', `notification_type=${'e'.repeat(300)}`],
      ['a notification_type that is not valid UTF-8', 'notification_type=%FFemail'],
      ['a repeated notification_type', 'notification_type=email&notification_type=phone'],
      ['an unknown query parameter', 'notification_type=email&password=Hostile-New-Pass-2'],
      ['an unknown query parameter naming another user', 'notification_type=email&user_id=u-bob'],
      ['a method override in the query', 'notification_type=email&_method=DELETE'],
      ['an unknown query parameter with no value', 'notification_type=email&Echo-Flag'],
      ['a query parameter __proto__[polluted]', '__proto__[polluted]=yes'],
      ['a query parameter constructor[prototype][polluted]', 'constructor[prototype][polluted]=yes'],
      ['a query parameter __proto__', '__proto__=email'],
      ['notification_type as an array', 'notification_type[]=email'],
    ].map(([what, queryString]) => ({
      what: what as string,
      target: withQuery(`?${queryString}`),
      status: 400,
    })),
    ...bodyShapeCases({}).filter((c) => !/top-level string/.test(c.what)),
    { what: 'a body on the GET', body: json({ password: NEW }), status: 400, message: /unknown field/ },
    { what: 'a 1 MB body on the GET', body: json({ password: ONE_MB }), status: 400, message: /larger than/ },
    ...pathIdCases('user_id', (id) => at(id), { status: 404, code: 'IAM.0004' }),
    ...pathIdCases('project_id', (id) => at('u-alice', id), { status: 403, code: 'IAM.0003' }).filter(
      (c) => !c.layer,
    ),
    { what: 'a project of another realm', target: at('u-other', 'other'), status: 403, code: 'IAM.0003' },
    { what: 'a user of another realm (as unknown)', target: at('u-other'), status: 404, code: 'IAM.0004' },
    { what: 'the method POST', method: 'POST', status: 405, code: 'IAM.0005', message: /GET/ },
    { what: 'the method DELETE', method: 'DELETE', status: 405, code: 'IAM.0005', message: /GET/ },
    { what: 'the method PATCH', method: 'PATCH', status: 405, code: 'IAM.0005', message: /GET/ },
    ...brokenHeaderCases('x-auth-token'),
    ...tokenCases('IAM.0001'),
  ];
  return {
    label: 'GET /v2/{project_id}/users/{user_id}/random-password (Huawei IAM)',
    dialect: 'huawei',
    method: 'GET',
    target: at('u-alice'),
    tokenHeader: 'x-auth-token',
    contentType: 'application/json',
    cases,
  };
}

function resetUserPasswordTable(): RouteTable {
  const target = '/cloudsso/2021-05-15/ResetUserPassword';
  const valid = { DirectoryId: 'demo', UserId: 'u-alice', GenerateRandomPassword: true };
  const given = { DirectoryId: 'demo', UserId: 'u-alice', Password: ALI_PASSWORD };
  const form = (params: string) => ({
    body: params,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  const passwordCases: Array<[string, string, RegExp?]> = [
    ['an empty Password', '', /empty/],
    ['a whitespace-only Password', '          '],
    ['a Password of 300 characters (under the body cap)', 'P'.repeat(300), /at most/],
    ['a Password of 8 000 characters (under the body cap)', 'P'.repeat(8000), /at most/],
    ['a Password with a NUL', `${ALI_PASSWORD}\u0000`],
    ['a Password with a control character', `${ALI_PASSWORD}\u0085`],
    ['a Password with a bidi override', `\u202e${ALI_PASSWORD}`],
    ['a Password with a lone surrogate', `${ALI_PASSWORD}\udfff`],
    ['a Password the seed’s policy refuses (too short)', 'Ab1!', /Password/],
  ];
  const idCases: Array<[string, string, string, number, (string | RegExp)?]> = [
    ['DirectoryId', 'a DirectoryId of another realm', 'other', 403, 'NoPermission.Directory'],
    ['DirectoryId', 'a DirectoryId that is a foreign ARN', 'arn:aws:sso:::instance/ssoins-1234', 400],
    ['DirectoryId', 'a DirectoryId "*"', '*', 400],
    ['DirectoryId', 'a DirectoryId ".."', '..', 400],
    ['DirectoryId', 'a DirectoryId with a NUL', 'demo\u0000', 400],
    ['DirectoryId', 'a full-width DirectoryId', '\uff44emo', 400],
    ['UserId', 'a UserId "../u-bob"', '../u-bob', 400],
    ['UserId', 'a UserId "*"', '*', 400],
    ['UserId', 'a UserId that is a foreign ARN', 'arn:aws:iam::123456789012:user/alice', 400],
    ['UserId', 'a UserId with a bidi override', 'u-\u202eecila', 400],
    ['UserId', 'a UserId with a decomposed accent (NFD)', 'jose\u0301', 400],
    ['UserId', 'a UserId of 200 characters', 'u'.repeat(200), 400],
    ['UserId', 'a UserId of spaces', '   ', 400],
  ];
  const cases: HostileCase[] = [
    ...bodyShapeCases(valid, { jsonOnly: false }),
    ...wrongTypes({ ...given, RequirePasswordResetForNextLogin: false }, [
      'DirectoryId',
      'UserId',
      'Password',
      'RequirePasswordResetForNextLogin',
    ]),
    ...WRONG_TYPES.filter(([label]) => label !== 'a boolean').map(([label, value]) => ({
      what: `${label} as GenerateRandomPassword`,
      body: json({ ...valid, GenerateRandomPassword: value }),
      status: 400,
      message: /GenerateRandomPassword/,
    })),
    {
      what: 'GenerateRandomPassword "yes"',
      body: json({ ...valid, GenerateRandomPassword: 'yes' }),
      status: 400,
      code: 'InvalidParameter.GenerateRandomPassword',
    },
    {
      what: 'GenerateRandomPassword "TRUE"',
      body: json({ ...valid, GenerateRandomPassword: 'TRUE' }),
      status: 400,
      code: 'InvalidParameter.GenerateRandomPassword',
    },
    {
      what: 'no DirectoryId',
      body: json({ UserId: 'u-alice', GenerateRandomPassword: true }),
      status: 400,
      code: 'MissingParameter.DirectoryId',
    },
    {
      what: 'no UserId',
      body: json({ DirectoryId: 'demo', GenerateRandomPassword: true }),
      status: 400,
      code: 'MissingParameter.UserId',
    },
    {
      what: 'neither Password nor GenerateRandomPassword',
      body: json({ DirectoryId: 'demo', UserId: 'u-alice' }),
      status: 400,
      code: 'MissingParameter.Password',
    },
    {
      what: 'a Password and GenerateRandomPassword true',
      body: json({ ...given, GenerateRandomPassword: true }),
      status: 400,
      code: 'InvalidParameter.Password',
    },
    ...passwordCases.map(([what, value, message]) => ({
      what,
      body: json({ ...given, Password: value }),
      status: 400,
      code: 'InvalidParameter.Password',
      message: message ?? /Password/,
    })),
    {
      what: 'a 1 MB Password in JSON',
      body: json({ ...given, Password: ONE_MB }),
      status: 400,
      message: /larger than/,
    },
    {
      what: 'a 1 MB Password in a form',
      ...form(`DirectoryId=demo&UserId=u-alice&Password=${ONE_MB}`),
      status: 400,
      message: /larger than/,
    },
    ...idCases.map(([field, what, value, status, code]) => ({
      what,
      body: json({ ...valid, [field]: value }),
      status,
      code: code ?? `InvalidParameter.${field}`,
      message: new RegExp(field === 'DirectoryId' && status === 403 ? 'directory' : field),
    })),
    {
      what: 'a form field given twice',
      ...form('DirectoryId=demo&UserId=u-alice&UserId=u-bob&GenerateRandomPassword=True'),
      status: 400,
      message: /more than once/,
    },
    {
      what: 'a form field __proto__[polluted]',
      ...form('DirectoryId=demo&UserId=u-alice&GenerateRandomPassword=True&__proto__[polluted]=yes'),
      status: 400,
      message: /__proto__/,
    },
    {
      what: 'a form field constructor[prototype][polluted]',
      ...form(
        'DirectoryId=demo&UserId=u-alice&GenerateRandomPassword=True&constructor[prototype][polluted]=yes',
      ),
      status: 400,
      message: /constructor/,
    },
    {
      what: 'a form field __proto__',
      ...form('__proto__=x&DirectoryId=demo&UserId=u-alice&GenerateRandomPassword=True'),
      status: 400,
      message: /__proto__/,
    },
    {
      what: 'a form Password that is not valid UTF-8',
      ...form(`DirectoryId=demo&UserId=u-alice&Password=%FF${ALI_PASSWORD}`),
      status: 400,
      message: /UTF-8/,
    },
    {
      what: 'a form Password with an encoded space',
      ...form(`DirectoryId=demo&UserId=u-alice&Password=${ALI_PASSWORD}+x`),
      status: 400,
      code: 'InvalidParameter.Password',
    },
    {
      what: 'a multipart body',
      body: '--b\r\n\r\nx\r\n--b--',
      headers: { 'content-type': 'multipart/form-data; boundary=b' },
      status: 400,
      message: /application/,
    },
    {
      what: 'parameters in both the query and the body',
      target: `${target}?DirectoryId=demo`,
      body: json(valid),
      status: 400,
      code: 'InvalidParameter.ParameterLocation',
    },
    ...brokenHeaderCases('authorization'),
    {
      what: 'a query parameter __proto__[polluted]',
      target: `${target}?DirectoryId=demo&UserId=u-alice&GenerateRandomPassword=True&__proto__[polluted]=yes`,
      status: 400,
      message: /__proto__/,
    },
    // Issue 11: Alibaba's common parameters (AccessKeyId, Signature, ...) are accepted and
    // ignored; a token in the query string (the v2 SDKs' BearerToken) is still unknown.
    ...unknownQueryCases(
      `${target}?DirectoryId=demo&UserId=u-alice&GenerateRandomPassword=True`,
      'BearerToken=x',
    ),
    {
      what: 'an unknown query parameter beside a JSON body',
      target: `${target}?Echo-Param-1=1`,
      body: json(valid),
      status: 400,
      message: /unknown parameter/,
      notEchoed: ['Echo-Param'],
    },
    {
      // The finding: an unencoded `&` in a form Password sent its tail back as a field name.
      what: 'a form Password with an unencoded & (its tail is not named back)',
      ...form(`DirectoryId=demo&UserId=u-alice&Password=Ab1!xyz&FormLeak-Tail-444`),
      status: 400,
      message: /1 unknown field/,
      notEchoed: ['FormLeak', 'Ab1!xyz'],
    },
    {
      what: 'a form field given twice (not named)',
      ...form('DirectoryId=demo&UserId=u-alice&GenerateRandomPassword=True&Echo-Twice=1&Echo-Twice=2'),
      status: 400,
      message: /more than once/,
      notEchoed: ['Echo-Twice'],
    },
    {
      what: 'a query Password with an encoded lone surrogate',
      target: `${target}?DirectoryId=demo&UserId=u-alice&Password=%ED%B0%80`,
      status: 400,
      message: /UTF-8/,
    },
    ...tokenCases('InvalidSecurityToken'),
  ];
  // A token case sends the valid body: refused for the token, not for the body.
  for (const c of cases) if (c.token && c.body === undefined) c.body = json(valid);
  return {
    label: 'POST /cloudsso/2021-05-15/ResetUserPassword (Alibaba CloudSSO)',
    dialect: 'alibaba',
    method: 'POST',
    target,
    tokenHeader: 'authorization',
    contentType: 'application/json',
    cases,
  };
}

function ddmAdminTable(method: 'PUT' | 'POST'): RouteTable {
  const at = (instance: string, project = 'demo') => `/v3/${project}/instances/${instance}/admin-user`;
  const valid = { name: 'root', password: DDM_PASSWORD };
  const withField = (field: string, value: unknown) => json({ ...valid, [field]: value });
  const values: Array<[string, string, string, RegExp?]> = [
    ['name', 'an empty name', '', /empty/],
    ['name', 'a whitespace-only name', '   '],
    ['name', 'a name of 33 characters', `r${'o'.repeat(32)}`, /at most/],
    ['name', 'a name starting with a digit', '1root'],
    ['name', 'a name with a NUL', 'ro\u0000ot'],
    ['name', 'a name with a bidi override', 'ro\u202eot'],
    ['name', 'a full-width name', '\uff52\uff4f\uff4f\uff54'],
    ['name', 'a name with a decomposed accent (NFD)', 'rooe\u0301t'],
    ['name', 'a name "../root"', '../root'],
    ['password', 'an empty password', '', /empty/],
    ['password', 'a whitespace-only password', '          '],
    ['password', 'a password of 300 characters (under the body cap)', 'P'.repeat(300), /at most/],
    ['password', 'a password with a NUL', `${DDM_PASSWORD}\u0000`],
    ['password', 'a password with a bidi override', `${DDM_PASSWORD}\u202e`],
    ['password', 'a password with a lone surrogate', `${DDM_PASSWORD}\ud800`],
    ['password', 'a password the seed’s policy refuses (a forbidden special)', 'Abcdefg1$'],
  ];
  const cases: HostileCase[] = [
    ...bodyShapeCases(valid),
    ...wrongTypes(valid, ['name', 'password']),
    { what: 'no body at all', status: 400, message: /body/ },
    {
      what: 'a body without password',
      body: json({ name: 'root' }),
      status: 400,
      message: /password is required/,
    },
    ...values.map(([field, what, value, message]) => ({
      what,
      body: withField(field, value),
      status: 400,
      message: message ?? new RegExp(field),
    })),
    { what: 'a 1 MB password', body: withField('password', ONE_MB), status: 400, message: /larger than/ },
    ...pathIdCases('instance_id', (id) => at(id), { status: 404, code: 'DDM.0004' }),
    ...pathIdCases('project_id', (id) => at('ddm-1', id), { status: 403, code: 'DDM.0003' }).filter(
      (c) => !c.layer,
    ),
    { what: 'a project of another realm', target: at('ddm-1', 'other'), status: 403, code: 'DDM.0003' },
    ...unknownQueryCases(at('ddm-1'), 'name=evil'),
    ...tokenCases('DDM.0001'),
  ];
  for (const c of cases) {
    if (c.body === undefined && (c.token || c.target) && c.what !== 'no body at all') c.body = json(valid);
  }
  return {
    label: `${method} /v3/{project_id}/instances/{instance_id}/admin-user (Huawei DDM)`,
    dialect: 'huawei',
    method,
    target: at('ddm-1'),
    tokenHeader: 'x-auth-token',
    contentType: 'application/json',
    cases,
  };
}

/**
 * The ticket intake (issue 12): every case but the sender's carries the connector's secret, so
 * it reaches the body's checks; a request refused here puts nothing on the bus (a ticket that
 * slipped through would reset a user: the table and the vault would change).
 */
function ticketIntakeTable(): RouteTable {
  const at = (id: string) => `/tickets/${id}`;
  const valid = {
    ticketId: 'SD-7',
    operation: 'ResetRandomPassword',
    user: 'bob',
    notificationType: 'email',
  };
  const withField = (field: string, value: unknown) => json({ ...valid, [field]: value });
  const values: Array<[string, string, unknown, RegExp?]> = [
    ['ticketId', 'an empty ticketId', ''],
    ['ticketId', 'a ticketId with a space', 'SD 7'],
    ['ticketId', 'a ticketId of 65 characters', 'S'.repeat(65), /at most/],
    ['ticketId', 'a ticketId with a NUL', 'SD-\u00007'],
    ['ticketId', 'a ticketId with a bidi override', 'SD-\u202e7'],
    ['operation', 'an operation rekey does not run', 'DeleteUser'],
    ['operation', 'an operation in lower case', 'resetrandompassword'],
    ['user', 'an empty user', ''],
    ['user', 'a user with a NUL', 'bo\u0000b'],
    ['user', 'a user with a bidi override', 'bo\u202eb'],
    ['user', 'a full-width user', '\uff42\uff4f\uff42'],
    ['user', 'a user of 300 characters', 'b'.repeat(300), /at most/],
    ['notificationType', 'a channel rekey does not have', 'sms'],
    ['notificationType', 'a channel named twice', 'email,email', /twice/],
    ['notificationType', 'channels with a space', 'email, phone'],
  ];
  const secretHeader = async () => ({ 'x-rekey-connector-secret': intakeSecret });
  const cases: HostileCase[] = [
    ...bodyShapeCases(valid),
    ...wrongTypes(valid, ['ticketId', 'operation', 'user', 'notificationType']),
    { what: 'no body at all', status: 400, message: /body/ },
    ...values.map(([field, what, value, message]) => ({
      what,
      body: withField(field, value),
      status: 400,
      message: message ?? new RegExp(field),
    })),
    ...['password', 'newPassword', 'Echo-Passwort'].map((field) => ({
      what: `a password field ${field} (not named)`,
      body: json({ ...valid, [field]: 'Hostile-New-Pass-2' }),
      status: 400,
      code: 'InvalidInput.Password',
      message: /cannot carry a password/,
      notEchoed: ['Echo-Passwort'],
    })),
    {
      what: 'notificationType on ResetUserPassword (it notifies no one)',
      body: json({ ...valid, operation: 'ResetUserPassword' }),
      status: 400,
      message: /notificationType/,
    },
    ...unknownQueryCases(at('hostile-jsm'), 'user=alice'),
    // The sender: the same 401 for every failure, whatever was sent.
    ...[
      ['no secret header', async () => ({})],
      ['an empty secret header', async () => ({ 'x-rekey-connector-secret': '' })],
      ['a wrong secret', async () => ({ 'x-rekey-connector-secret': 'Echo-Secret-9' })],
      ['the secret with a character more', async () => ({ 'x-rekey-connector-secret': `${intakeSecret}x` })],
      ['the secret in the Authorization header', async () => ({ authorization: `Bearer ${intakeSecret}` })],
      [
        'a Zendesk signature instead',
        async () => ({
          'x-zendesk-webhook-signature': 'c2ln',
          'x-zendesk-webhook-signature-timestamp': new Date().toISOString(),
        }),
      ],
    ].map(([what, lazyHeaders]) => ({
      what: what as string,
      body: json(valid),
      lazyHeaders: lazyHeaders as () => Promise<Record<string, string>>,
      status: 401,
      code: 'NotAuthenticated.Sender',
      notEchoed: ['Echo-Secret'],
    })),
    // The connector: an id that is not one, or nobody's: 404, before any secret is read.
    ...['nobody', 'HOSTILE-JSM', '%2e%2e%2fx', '*', 'a'.repeat(300), 'hostile-jsm%00', 'hostile-jsm%20'].map(
      (id) => ({
        what: `a connector id ${id.slice(0, 20)}`,
        target: at(id),
        body: json(valid),
        status: 404,
        code: 'NotFound.Connector',
      }),
    ),
  ];
  for (const c of cases) c.lazyHeaders ??= secretHeader;
  return {
    label: 'POST /tickets/{connectorId} (rekey, ticket intake)',
    dialect: 'rekey',
    method: 'POST',
    target: at('hostile-jsm'),
    tokenHeader: undefined,
    contentType: 'application/json',
    cases,
  };
}

function passwordPageTable(): RouteTable {
  const target = '/password';
  const query = (params: string) => `${target}?${params}`;
  const texts: Array<[string, string, RegExp?]> = [
    ['an empty NAME', '', /empty/],
    ['a whitespace-only NAME', '   ', /space/],
    ['a NAME with a leading space', ' alice', /space/],
    ['a NAME of 256 characters', 'a'.repeat(256), /at most/],
    ['a NAME with a NUL', 'ali\u0000ce'],
    ['a NAME with a control character', 'ali\u0007ce'],
    ['a NAME with a bidi override (U+202E)', '\u202eecila'],
    ['a NAME with a zero-width space', 'al\u200bice'],
    ['a NAME with a right-to-left mark', 'alice\u200f'],
    ['a NAME with a no-break space', 'ali\u00a0ce'],
    ['a NAME with a decomposed accent (NFD)', 'jose\u0301', /NFKC/],
    ['a full-width look-alike NAME', '\uff41\uff4c\uff49\uff43\uff45', /NFKC/],
    ['a NAME with a zero-width joiner', 'al\u200dice'],
  ];
  const cases: HostileCase[] = [
    ...['username', 'tenancy'].flatMap((field) =>
      texts.map(([what, value, message]) => ({
        what: `${what.replace('NAME', field)} to prefill`,
        target: query(`${field}=${encodeURIComponent(value)}`),
        status: 400,
        message: message ?? new RegExp(field),
      })),
    ),
    ...['currentPassword', 'newPassword', 'password'].map((name) => ({
      what: `a ${name} in the page's URL (never repeated)`,
      target: query(`username=alice&${name}=${CURRENT}`),
      status: 400,
      message: /unknown parameter/,
      notEchoed: [CURRENT, name],
    })),
    {
      what: 'a repeated prefill parameter',
      target: query('username=alice&username=bob'),
      status: 400,
      message: /more than once/,
    },
    ...pollutingQueryCases(query, 'username=alice'),
    {
      what: 'a prefill that is not valid UTF-8',
      target: query('username=alice%FF'),
      status: 400,
      message: /UTF-8/,
    },
    {
      what: 'a prefill with an encoded lone surrogate',
      target: query('username=%ED%A0%80'),
      status: 400,
      message: /UTF-8/,
    },
    ...unknownQueryCases(query('username=alice'), 'tenancy2=demo'),
    {
      what: 'a 1 MB prefill (the HTTP layer refuses the request line)',
      target: query(`username=${ONE_MB}`),
      status: 431,
      layer: 'http',
    },
  ];
  return {
    label: "GET /password (the end user's page, public)",
    dialect: 'oci',
    method: 'GET',
    target,
    tokenHeader: undefined,
    contentType: undefined,
    cases,
  };
}

const TABLES: RouteTable[] = [
  ticketIntakeTable(),
  uiPasswordTable(),
  changePasswordTable(),
  randomPasswordTable(),
  resetUserPasswordTable(),
  ddmAdminTable('PUT'),
  ddmAdminTable('POST'),
  passwordPageTable(),
];

// ---------------------------------------------------------------------------------------
// Assertions

const DEFAULT_400_CODE: Record<DialectName, RegExp> = {
  oci: /^(InvalidParameter|MissingParameter|CannotParseRequest)$/,
  huawei: /^(IAM|DDM)\.0011$/,
  alibaba: /^(InvalidParameter|MissingParameter)(\.\w+)?$/,
  rekey: /^InvalidInput(\.\w+)?$/,
};

/** The route's error body, and its request id where the dialect puts it. */
function dialectError(dialect: DialectName, res: Answer): { code: string; message: string } {
  switch (dialect) {
    case 'oci':
      expect(Object.keys(res.json ?? {}).sort()).toEqual(['code', 'message']);
      expect(res.headers['opc-request-id']).toEqual(expect.any(String));
      return { code: res.json.code, message: res.json.message };
    case 'huawei':
      expect(Object.keys(res.json ?? {}).sort()).toEqual(['error_code', 'error_msg']);
      expect(res.headers['x-request-id']).toEqual(expect.any(String));
      return { code: res.json.error_code, message: res.json.error_msg };
    case 'alibaba':
      expect(Object.keys(res.json ?? {}).sort()).toEqual(['Code', 'Message', 'RequestId']);
      expect(res.json.RequestId).toEqual(expect.any(String));
      return { code: res.json.Code, message: res.json.Message };
    case 'rekey':
      expect(Object.keys(res.json ?? {}).sort()).toEqual(['code', 'message', 'requestId']);
      expect(res.headers['x-request-id']).toEqual(expect.any(String));
      return { code: res.json.code, message: res.json.message };
  }
}

function expectRefusal(route: RouteTable, c: HostileCase, res: Answer): void {
  expect(res.status, res.text).toBe(c.status);
  if (c.layer === 'http') return;
  const { code, message } = dialectError(route.dialect, res);
  const expectedCode = c.code ?? (c.status === 400 ? DEFAULT_400_CODE[route.dialect] : undefined);
  if (typeof expectedCode === 'string') expect(code).toBe(expectedCode);
  else if (expectedCode) expect(code).toMatch(expectedCode);
  // A useful message: a sentence, naming what is wrong when the case says what that is.
  expect(message).toMatch(/^[A-Z].{15,}\.$/s);
  if (c.message) expect(message).toMatch(c.message);
}

for (const route of TABLES) {
  describe(route.label, () => {
    it('has at least 40 hostile cases answered in the route’s dialect', () => {
      expect(route.cases.filter((c) => c.layer !== 'http').length).toBeGreaterThanOrEqual(40);
    });

    for (const c of route.cases) {
      const layer = c.layer === 'http' ? ' from the HTTP layer' : ` in ${route.dialect}'s error body`;
      it(`refuses ${c.what} with ${c.status}${layer}, writing and hashing nothing`, async () => {
        const before = await state();
        const hashesBefore = argon2.calls;
        const res = await send(route, c);
        expectRefusal(route, c, res);
        for (const password of HOSTILE_PASSWORDS) expect(res.text).not.toContain(password);
        for (const sent of c.notEchoed ?? []) expect(res.text, 'repeats what was sent').not.toContain(sent);
        expect(argon2.calls - hashesBefore, 'argon2id calls').toBe(0);
        expect(await state()).toEqual(before);
      });
    }
  });
}

describe('every route of the route table', () => {
  it('has a hostile table, admin routes with token refusals in their own dialect', () => {
    const covered = new Set(TABLES.map((table) => `${table.method} ${table.target.split('?')[0]}`));
    for (const route of ROUTES) {
      for (const method of route.methods) {
        const pattern = new RegExp(`^${method} ${route.path.replace(/\{\w+\}/g, '[^/]+')}$`);
        expect(
          [...covered].some((key) => pattern.test(key)),
          `${method} ${route.path}`,
        ).toBe(true);
      }
    }
  });
});

describe('after every hostile request', () => {
  it('no password reached a log line', () => {
    const output = logs.join('');
    expect(output).toContain('request refused');
    for (const password of [...HOSTILE_PASSWORDS, ONE_MB.slice(0, 64)])
      expect(output).not.toContain(password);
  });

  it('the warm process has no polluted prototype', () => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(([] as unknown as Record<string, unknown>).polluted).toBeUndefined();
    expect(ownKeys()).toEqual(prototypeKeys);
  });
});

describe('HTTP framing and sizes', () => {
  const ddm = '/v3/demo/instances/ddm-1/admin-user';
  const ddmBody = json({ name: 'root', password: DDM_PASSWORD });

  it('refuses a body over API Gateway’s 10 MB payload limit with 413, before any function, writing nothing', async () => {
    const before = await state();
    const res = await sendHttp(
      'PUT',
      ddm,
      { 'x-auth-token': await t.token(), 'content-type': 'application/json' },
      Buffer.alloc(10 * 1024 * 1024 + 1, 0x20),
    );
    expect(res.status).toBe(413);
    expect(res.json).toEqual({ message: 'Request Entity Too Large' });
    expect(await state()).toEqual(before);
  });

  it('refuses a 9 MB body (under the gateway’s limit) with the function’s 400, unparsed and unhashed', async () => {
    const before = await state();
    const hashes = argon2.calls;
    const res = await sendHttp(
      'PUT',
      ddm,
      { 'x-auth-token': await t.token(), 'content-type': 'application/json' },
      json({ name: 'root', password: 'P'.repeat(9 * 1024 * 1024) }),
    );
    expect(res.status).toBe(400);
    expect(res.json.error_code).toBe('DDM.0011');
    expect(res.json.error_msg).toMatch(/larger than/);
    expect(argon2.calls).toBe(hashes);
    expect(await state()).toEqual(before);
  });

  it.each([['X-HTTP-Method-Override'], ['X-HTTP-Method'], ['X-Method-Override']])(
    'does not honour a %s header: a POST to random-password is still a 405',
    async (name) => {
      const before = await state();
      const res = await sendHttp('POST', '/v2/demo/users/u-alice/random-password?notification_type=email', {
        'x-auth-token': await t.token(),
        [name]: 'GET',
      });
      expect(res.status).toBe(405);
      expect(res.json.error_code).toBe('IAM.0005');
      expect(await state()).toEqual(before);
    },
  );

  it('acts on the request’s own method only: an override header on a DDM PUT changes nothing', async () => {
    const res = await sendHttp(
      'PUT',
      ddm,
      {
        'x-auth-token': await t.token(),
        'content-type': 'application/json',
        'x-http-method-override': 'DELETE',
      },
      json({ name: 'root', password: 'Abcdefg1$' }),
    );
    // Refused for its password (a policy the seed defines), not routed as a DELETE.
    expect(res.status).toBe(400);
    expect(res.json.error_code).toBe('DDM.0011');
  });

  it('refuses Content-Length together with Transfer-Encoding (request smuggling) before any route', async () => {
    const before = await state();
    const token = await t.token();
    const res = await sendRaw(
      'PUT',
      ddm,
      [
        `x-auth-token: ${token}\r\n`,
        'content-type: application/json\r\n',
        `content-length: ${Buffer.byteLength(ddmBody)}\r\n`,
        'transfer-encoding: chunked\r\n',
      ],
      `${Buffer.byteLength(ddmBody).toString(16)}\r\n${ddmBody}\r\n0\r\n\r\n`,
    );
    expect(res.status).toBe(400);
    expect(await state()).toEqual(before);
  });

  it('refuses two different Content-Length headers before any route', async () => {
    const before = await state();
    const res = await sendRaw(
      'PUT',
      ddm,
      [`x-auth-token: ${await t.token()}\r\n`, 'content-length: 2\r\n', 'content-length: 40\r\n'],
      '{}',
    );
    expect(res.status).toBe(400);
    expect(await state()).toEqual(before);
  });
});

describe('tenancies nobody has', () => {
  // A well-formed tenancy nobody has is not an input error: it is the unknown user's 401,
  // after the same work (so one dummy verification), and nothing is written.
  it.each([
    ['"*"', '*'],
    ['a foreign ARN', 'arn:aws:organizations::123456789012:account/o-x/1'],
    ['".."', '..'],
  ])('a tenancy %s gets exactly the unknown user’s 401, and nothing changes', async (_what, tenancy) => {
    const send = (body: Record<string, string>) =>
      sendHttp('PUT', '/20160918/changepassword', { 'content-type': 'application/json' }, json(body));
    const before = await state();
    const res = await send({ username: 'alice', currentPassword: CURRENT, newPassword: NEW, tenancy });
    const unknown = await send({ username: 'nobody-at-all', currentPassword: CURRENT, newPassword: NEW });
    expect(res.status).toBe(401);
    expect(res.json).toEqual(unknown.json);
    expect(res.text).not.toContain(tenancy);
    expect(await state()).toEqual(before);
  });
});

describe('confusable usernames', () => {
  // NFKC leaves these alone (they are letters of other scripts, not compatibility forms):
  // they are other usernames, so they get exactly the unknown user's 401 and touch alice not.
  it.each([
    ['a Cyrillic а (U+0430) for the Latin a', '\u0430lice'],
    ['a Greek ο (U+03BF) for the Latin o', 'b\u03bfb'],
    ['a Latin dotless ı (U+0131) for the i', 'al\u0131ce'],
  ])('%s is another user: the unknown user’s 401, nothing changes', async (_what, username) => {
    const send = (name: string) =>
      sendHttp(
        'PUT',
        '/20160918/changepassword',
        { 'content-type': 'application/json' },
        json({ username: name, currentPassword: CURRENT, newPassword: NEW }),
      );
    const before = await state();
    const confusable = await send(username);
    const unknown = await send('nobody-at-all');
    expect(confusable.status).toBe(401);
    expect(confusable.json).toEqual(unknown.json);
    expect(await state()).toEqual(before);
  });
});

describe('controls: the checks above can fail', () => {
  it('the hasher counter sees a request that reaches argon2id', async () => {
    const before = argon2.calls;
    const res = await sendHttp(
      'PUT',
      '/20160918/changepassword',
      { 'content-type': 'application/json' },
      json({ username: 'nobody-here', currentPassword: CURRENT, newPassword: NEW }),
    );
    expect(res.status).toBe(401);
    expect(argon2.calls - before).toBe(1);
  });

  it('the snapshot sees a request that writes', async () => {
    const before = await state();
    const res = await sendHttp('POST', '/20160918/users/u-bob/uiPassword', {
      authorization: `Bearer ${await t.token()}`,
    });
    expect(res.status).toBe(200);
    expect(await state()).not.toEqual(before);
  });
});
