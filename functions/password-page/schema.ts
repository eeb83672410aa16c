/**
 * Request schema of `GET /password/rules`: an optional tenancy (a realm id or name), checked
 * like change-password's before the directory is asked.
 */
import * as z from 'zod/mini';
import { nameText } from '#http/text.ts';

export const rulesRequest = z.strictObject({
  tenancy: z.optional(nameText(255)),
});

/**
 * The page's prefill (`GET /password?tenancy=…&username=…`), read by the page's own script;
 * checked here too, so a link cannot carry what no form field may hold. Never a password.
 */
export const pageRequest = z.strictObject({
  tenancy: z.optional(nameText(255)),
  username: z.optional(nameText(255)),
});
