/**
 * JSON bodies, parsed strictly: a duplicate key, a prototype-pollution key or deep nesting
 * is a 400, never a silent "last one wins". Refusals never repeat the caller's keys: a
 * forbidden key is one of three fixed words, a duplicate one is not named.
 */
import { InvalidInputError } from '#core/errors.ts';

/** Keys that could reach an object's prototype if any code ever merged the body. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_DEPTH = 16;

/** Parses JSON text, refusing duplicate keys, forbidden keys and nesting deeper than 16. */
export function assertPlainJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidInputError('The request body is not valid JSON.', { reason: 'MalformedJson' });
  }
  scanKeys(text);
  return value;
}

interface Frame {
  keys: Set<string> | undefined;
  expectKey: boolean;
}

/** Walks already-valid JSON text and checks every object's keys. */
function scanKeys(text: string): void {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '{' || ch === '[') {
      if (stack.length >= MAX_DEPTH) {
        throw new InvalidInputError(`The request body nests deeper than ${MAX_DEPTH} levels.`, {
          reason: 'MalformedJson',
        });
      }
      stack.push({ keys: ch === '{' ? new Set() : undefined, expectKey: ch === '{' });
    } else if (ch === '}' || ch === ']') {
      stack.pop();
    } else if (ch === ',') {
      const top = stack.at(-1);
      if (top?.keys) top.expectKey = true;
    } else if (ch === '"') {
      const end = endOfString(text, i);
      const top = stack.at(-1);
      if (top?.keys && top.expectKey) {
        checkKey(top.keys, JSON.parse(text.slice(i, end + 1)) as string);
        top.expectKey = false;
      }
      i = end;
    }
  }
}

function endOfString(text: string, start: number): number {
  for (let j = start + 1; j < text.length; j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === '"') return j;
  }
  return text.length - 1;
}

function checkKey(keys: Set<string>, key: string): void {
  if (FORBIDDEN_KEYS.has(key)) {
    // `key` is one of FORBIDDEN_KEYS here: rekey's words, not the caller's.
    throw new InvalidInputError(`The request body may not contain the key ${key}.`, {
      reason: 'ForbiddenKey',
      field: key,
    });
  }
  if (keys.has(key)) {
    throw new InvalidInputError('The request body gives a field more than once.', {
      reason: 'DuplicateField',
    });
  }
  keys.add(key);
}

/**
 * A name made printable ASCII, at most 64 characters: for a log line or an id rekey checked.
 * Not a licence to echo: a refusal never names what the route does not define.
 */
export function safeName(name: string): string {
  const cleaned = name.replace(/[^\x20-\x7e]/g, '?');
  return cleaned.length > 64 ? `${cleaned.slice(0, 64)}…` : cleaned;
}
