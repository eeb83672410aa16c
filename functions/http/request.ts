/**
 * Reading an API Gateway HTTP API (payload 2.0) request: ids, headers, query, bodies, and
 * strict schema checks that turn into InvalidInputErrors. Nothing here logs or echoes values.
 */
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import type * as z from 'zod/mini';
import { InvalidInputError } from '#core/errors.ts';
import { assertPlainJson, safeName } from './json.ts';

export { safeName };

export type HttpEvent = APIGatewayProxyEventV2WithJWTAuthorizer;

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
  return uniqueParameters(new URLSearchParams(event.rawQueryString ?? ''), 'query parameter');
}

/** The raw body text, decoded, after the size check. Undefined when there is none. */
export function bodyText(event: HttpEvent): string | undefined {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  const bytes = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (bytes.length > MAX_BODY_BYTES) {
    throw new InvalidInputError(`The request body is larger than ${MAX_BODY_BYTES} bytes.`, {
      reason: 'RequestTooLarge',
    });
  }
  return bytes.toString('utf8');
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
  return uniqueParameters(new URLSearchParams(text), 'form field');
}

function uniqueParameters(params: URLSearchParams, what: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [key, value] of params) {
    if (Object.hasOwn(out, key)) {
      throw new InvalidInputError(`The ${what} ${safeName(key)} is given more than once.`, { field: key });
    }
    out[key] = value;
  }
  return out;
}

/**
 * Checks `value` against a strict schema. The error names the offending field and the rule,
 * never the value: a value may be a password.
 */
export function parseInput<S extends z.ZodMiniType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.map(String).join('.') || undefined;
  const message = issue ? describeIssue(issue, field) : 'The request is not valid.';
  throw new InvalidInputError(message, { field, reason: 'InvalidParameter' });
}

function describeIssue(issue: z.core.$ZodIssue, field: string | undefined): string {
  const subject = field ? `Parameter ${safeName(field)}` : 'The request';
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined
        ? `${subject} is required.`
        : `${subject} must be ${article(issue.expected)}${issue.expected}.`;
    case 'too_small':
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

function measure(origin: string): string {
  return origin === 'string' || origin === 'array' ? 'have' : 'be';
}

function unitOf(origin: string): string {
  return origin === 'string' ? ' characters' : origin === 'array' ? ' items' : '';
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? 'an ' : 'a ';
}
