/**
 * Reading an API Gateway HTTP API (payload 2.0) request: ids, headers, query, bodies, and
 * strict schema checks that turn into InvalidInputErrors.
 *
 * A refusal names only what the route itself defines (its fields, its query parameters) and
 * the rule broken. It never repeats anything else the caller sent: not a value, not an
 * unknown field or parameter name (a password with an unencoded `&` in a form body turns its
 * tail into a "field name"), not a header value. Nothing here logs.
 */
import type { APIGatewayProxyEventV2WithLambdaAuthorizer } from 'aws-lambda';
import type * as z from 'zod/mini';
import { InvalidInputError } from '#core/errors.ts';
import { assertPlainJson, FORBIDDEN_KEYS, safeName } from './json.ts';

export { safeName };

/** A payload 2.0 event; admin routes carry the token authorizer's context (strings only). */
export type HttpEvent = APIGatewayProxyEventV2WithLambdaAuthorizer<Record<string, string>>;

/** Bodies larger than this are refused before they are parsed (or hashed). */
export const MAX_BODY_BYTES = 16 * 1024;

/** The request id API Gateway assigned; every log line and error body carries it. */
export function requestIdOf(event: HttpEvent): string {
  return event.requestContext?.requestId || 'unknown';
}

/** A header's value (API Gateway lower-cases header names in payload 2.0). */
export function header(event: HttpEvent, name: string): string | undefined {
  return event.headers?.[name.toLowerCase()];
}

/**
 * The query string as a record. Parsed from the raw string, because API Gateway joins
 * repeated parameters with commas — and a comma is a legal password character.
 */
export function queryParameters(event: HttpEvent): Record<string, string> {
  return urlEncodedParameters(event.rawQueryString ?? '', 'query parameter');
}

/**
 * Refuses a query string that holds a parameter the route does not define (`accepted`; none
 * by default), with the strict parsing of `queryParameters` (repeats, pollution names, broken
 * escapes). The shared pipeline runs it before any route logic, so a route that never reads
 * the query cannot ignore one: `?userId=u-alice` on another user's path is a 400, not a reset
 * of the path's user. The message counts the unknown names and lists the accepted ones.
 */
export function refuseUnknownQueryParameters(event: HttpEvent, accepted: readonly string[]): void {
  const names = Object.keys(queryParameters(event));
  const unknown = names.filter((name) => !accepted.includes(name)).length;
  if (unknown === 0) return;
  const allowed =
    accepted.length === 0 ? 'it takes no query parameters' : `it takes only ${accepted.join(', ')}`;
  throw new InvalidInputError(
    `The query string has ${countOf(unknown, 'parameter')} this route does not define; ${allowed}.`,
    { reason: 'UnknownParameter' },
  );
}

/** `1 unknown parameter`, `2 unknown parameters`. */
function countOf(count: number, noun: string): string {
  return `${count} unknown ${noun}${count === 1 ? '' : 's'}`;
}

/** UTF-8 that is not well-formed is refused, never repaired: a repaired password is another password. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The raw body text, decoded, after the size check. Undefined when there is none. */
export function bodyText(event: HttpEvent): string | undefined {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  const bytes = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (bytes.length > MAX_BODY_BYTES) {
    throw new InvalidInputError(`The request body is larger than ${MAX_BODY_BYTES} bytes.`, {
      reason: 'RequestTooLarge',
    });
  }
  if (event.isBase64Encoded) {
    try {
      return strictUtf8.decode(bytes);
    } catch {
      throw notUtf8();
    }
  }
  // A text body with a lone surrogate has no UTF-8 form: it cannot have come over the wire.
  if (LONE_SURROGATE.test(event.body)) throw notUtf8();
  return event.body;
}

const LONE_SURROGATE = /\p{Cs}/u;

function notUtf8(): InvalidInputError {
  return new InvalidInputError('The request body is not valid UTF-8.', { reason: 'MalformedBody' });
}

/** The media type of the body, without parameters, lower-cased. */
export function contentType(event: HttpEvent): string {
  return (header(event, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** A JSON body as a plain value (after duplicate-key and depth checks), or undefined. */
export function jsonBody(event: HttpEvent): unknown {
  const text = bodyText(event);
  if (text === undefined) return undefined;
  if (contentType(event) !== 'application/json') {
    throw new InvalidInputError('A request body must be sent as application/json.', {
      reason: 'ContentType',
    });
  }
  return assertPlainJson(text);
}

/** An `application/x-www-form-urlencoded` body as a record, or undefined. */
export function formBody(event: HttpEvent): Record<string, string> | undefined {
  const text = bodyText(event);
  if (text === undefined) return undefined;
  return urlEncodedParameters(text, 'form field');
}

/**
 * `a=1&b=2` as a null-prototype record. Stricter than URLSearchParams, which silently turns
 * a broken escape (`%ZZ`, `%FF`, an encoded lone surrogate) into U+FFFD: such a value is
 * refused, as is a repeated name (without naming it: it may be anything). Names that a
 * "qs"-style parser would turn into a path to a prototype (`__proto__[x]`,
 * `constructor[prototype][x]`, `__proto__.x`) are refused as in JSON bodies, whatever else
 * is wrong with the request; the message names the root, which is one of FORBIDDEN_KEYS.
 */
function urlEncodedParameters(text: string, what: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const split = pair.indexOf('=');
    const key = decodeComponent(split < 0 ? pair : pair.slice(0, split), what);
    const value = split < 0 ? '' : decodeComponent(pair.slice(split + 1), what);
    const root = key.split(/[[.]/, 1)[0] ?? key;
    if (FORBIDDEN_KEYS.has(root)) {
      // `root` is one of the three forbidden words, never the caller's text around it.
      throw new InvalidInputError(`The request may not contain the ${what} ${root}.`, {
        reason: 'ForbiddenKey',
      });
    }
    if (Object.hasOwn(out, key)) {
      throw new InvalidInputError(`A ${what} is given more than once.`);
    }
    out[key] = value;
  }
  return out;
}

function decodeComponent(raw: string, what: string): string {
  try {
    return decodeURIComponent(raw.replaceAll('+', ' '));
  } catch {
    throw new InvalidInputError(`A ${what} is not valid percent-encoded UTF-8.`, {
      reason: 'MalformedParameter',
    });
  }
}

/**
 * Checks `value` against a strict schema. The error names the offending field and the rule,
 * never the value (it may be a password) and never a field the schema does not define (its
 * name is the caller's text too): unknown fields are only counted.
 */
export function parseInput<S extends z.ZodMiniType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  // An unknown field is reported first: it is often the misspelling of the field reported
  // missing, and when it is hostile (`isAdmin`) the caller should read that it was refused.
  const { issues } = result.error;
  const issue = issues.find((candidate) => candidate.code === 'unrecognized_keys') ?? issues[0];
  // zod's paths go through the schema's own keys; cut to them anyway, so that a schema with
  // a record or an array in it could not make a message name the caller's keys.
  const field = issue ? definedPath(schema, issue.path).join('.') || undefined : undefined;
  const input = issue ? valueAt(value, issue.path) : undefined;
  const message = issue ? describeIssue(issue, field, input) : 'The request is not valid.';
  // An absent required field is its own refusal in the vendors' tables (OCI's and Alibaba's
  // MissingParameter); a dialect without one reads the kind alone.
  const missing = issue?.code === 'invalid_type' && input === undefined;
  throw new InvalidInputError(message, { field, reason: missing ? 'MissingParameter' : 'InvalidParameter' });
}

/** The longest start of `path` whose every key is a field the schema defines (through optional and pipe). */
function definedPath(schema: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
  const defined: string[] = [];
  let current: z.core.$ZodType | undefined = schema;
  for (const key of path) {
    const def = unwrapped(current)?._zod.def as { shape?: Record<string, z.core.$ZodType> } | undefined;
    if (typeof key !== 'string' || !def?.shape || !Object.hasOwn(def.shape, key)) break;
    defined.push(key);
    current = def.shape[key];
  }
  return defined;
}

function unwrapped(schema: z.core.$ZodType | undefined): z.core.$ZodType | undefined {
  let current = schema;
  for (let depth = 0; current && depth < 8; depth++) {
    const def = current._zod.def as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType };
    const inner = def.type === 'pipe' ? def.in : def.innerType;
    if (!inner) return current;
    current = inner;
  }
  return current;
}

/**
 * What the caller sent at `path`, to tell a missing field from a wrong type. (zod leaves the
 * input out of its issues unless asked, and asking would put values where messages are made.)
 */
function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function describeIssue(issue: z.core.$ZodIssue, field: string | undefined, input: unknown): string {
  const subject = subjectOf(field);
  switch (issue.code) {
    case 'invalid_type':
      return input === undefined
        ? `${subject} is required.`
        : `${subject} must be ${article(issue.expected)}${issue.expected}.`;
    case 'too_small':
      if (issue.origin === 'string' && Number(issue.minimum) === 1) return `${subject} may not be empty.`;
      return `${subject} must ${measure(issue.origin)} at least ${issue.minimum}${unitOf(issue.origin)}.`;
    case 'too_big':
      return `${subject} must ${measure(issue.origin)} at most ${issue.maximum}${unitOf(issue.origin)}.`;
    case 'unrecognized_keys':
      // Counted, never named: a form password with an unencoded `&` sends its tail as a name.
      return `${subject} has ${countOf(issue.keys.length, 'field')}; unknown fields are not allowed.`;
    case 'invalid_value':
      return `${subject} must be one of: ${issue.values.map(String).join(', ')}.`;
    case 'invalid_format':
    case 'custom':
      return `${subject} ${issue.message && issue.message !== 'Invalid input' ? issue.message : 'has an invalid format'}.`;
    default:
      return `${subject} is not valid.`;
  }
}

/** Who the message is about: handlers put a JSON body under `body`, its fields under `body.`. */
function subjectOf(field: string | undefined): string {
  if (field === undefined) return 'The request';
  if (field === 'body') return 'The request body';
  return `Parameter ${safeName(field.startsWith('body.') ? field.slice('body.'.length) : field)}`;
}

function measure(origin: string): string {
  return origin === 'string' || origin === 'array' ? 'have' : 'be';
}

function unitOf(origin: string): string {
  return origin === 'string' ? ' characters' : origin === 'array' ? ' items' : '';
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? 'an ' : 'a ';
}
