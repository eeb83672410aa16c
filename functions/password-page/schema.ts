/**
 * Request schema of `GET /password/rules`: an optional tenancy (a realm id or name), checked
 * like change-password's before the directory is asked.
 */
import * as z from 'zod/mini';
import { nameText } from '#http/text.ts';

export const rulesRequest = z.strictObject({
  tenancy: z.optional(nameText(255)),
});
