/**
 * Reading an API Gateway HTTP API (payload 2.0) request: ids, headers, query, bodies, and
 * strict schema checks that turn into InvalidInputErrors. Nothing here logs or echoes values.
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
 * refused, as is a repeated name. Names that a "qs"-style parser would turn into a path to a
 * prototype (`__proto__[x]`, `constructor[prototype][x]`, `__proto__.x`) are refused as in
 * JSON bodies, whatever else is wrong with the request, so the message names them.
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
      throw new InvalidInputError(`The request may not contain the ${what} ${safeName(root)}.`, {
        reason: 'ForbiddenKey',
        field: root,
      });
    }
    if (Object.hasOwn(out, key)) {
      throw new InvalidInputError(`The ${what} ${safeName(key)} is given more than once.`, { field: key });
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
 * never the value: a value may be a password.
 */
export function parseInput<S extends z.ZodMiniType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  // An unknown field is named first: it is often the misspelling of the field reported
  // missing, and when it is hostile (`isAdmin`) the caller should read that it was refused.
  const { issues } = result.error;
  const issue = issues.find((candidate) => candidate.code === 'unrecognized_keys') ?? issues[0];
  const field = issue?.path.map(String).join('.') || undefined;
  const message = issue
    ? describeIssue(issue, field, valueAt(value, issue.path))
    : 'The request is not valid.';
  throw new InvalidInputError(message, { field, reason: 'InvalidParameter' });
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
      return `${subject} has unknown fields: ${issue.keys.map(safeName).join(', ')}.`;
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
