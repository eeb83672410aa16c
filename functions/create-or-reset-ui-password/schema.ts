/**
 * Request and response schemas of `POST /20160918/users/{userId}/uiPassword` (seed 000).
 */
import * as z from 'zod/mini';
import { resourceId } from '#http/wire.ts';

/** `opc-retry-token`: 1–64 printable ASCII characters (it is echoed nowhere, but logged ids must be clean). */
export const retryToken = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(64),
    z.regex(/^[\x21-\x7e]+$/, 'may contain only printable ASCII characters without spaces'),
  );

export const uiPasswordRequest = z.strictObject({
  userId: resourceId,
  'opc-retry-token': z.optional(retryToken),
  /** The seed defines no body; an empty object is tolerated, anything else is refused. */
  body: z.optional(z.strictObject({})),
});

export type UiPasswordRequest = z.infer<typeof uiPasswordRequest>;
