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
 * The header the page sends a tenancy the user *typed* in (percent-encoded UTF-8): never the
 * URL, where a password typed into the wrong field would reach every proxy's and CDN's log.
 * The query's `tenancy` stays for a link's tenancy and for other clients; both at once is a 400.
 */
export const TENANCY_HEADER = 'x-rekey-tenancy';

/**
 * The page's prefill (`GET /password?tenancy=…&username=…`), read by the page's own script;
 * checked here too, so a link cannot carry what no form field may hold. Never a password.
 */
export const pageRequest = z.strictObject({
  tenancy: z.optional(nameText(255)),
  username: z.optional(nameText(255)),
});
