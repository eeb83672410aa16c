/**
 * The one wire flag several operations share (CloudSSO's parameters, the tickets' flags). A
 * module of its own, not in wire.ts: a module's top level runs at every cold start of every
 * function that imports it, and most functions that need wire.ts's ids take no flag
 * (docs/decisions.md, "Cold start, fifth pass").
 */
import * as z from 'zod/mini';

const BOOLEAN_WORDS: Readonly<Record<string, boolean>> = {
  True: true,
  true: true,
  False: false,
  false: false,
};

/**
 * A flag as vendors and ticketing systems send it: a JSON boolean, or `True`/`False`
 * (`true`/`false`) in a query, a form or a JSON string.
 */
export const booleanWord = z.pipe(
  z.custom<boolean | string>(
    (value) =>
      typeof value === 'boolean' || (typeof value === 'string' && Object.hasOwn(BOOLEAN_WORDS, value)),
    'must be True or False',
  ),
  z.transform((value: boolean | string) =>
    typeof value === 'boolean' ? value : BOOLEAN_WORDS[value] === true,
  ),
);
