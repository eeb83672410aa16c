/**
 * Request schema of `PUT|POST /v3/{project_id}/instances/{instance_id}/admin-user` (seed 004).
 * The response has no body (the seed's "Example Response: None").
 */
import * as z from 'zod/mini';
import { idText, passwordText } from '#http/text.ts';

/** Project and instance ids: letters, digits, `.`, `_` and `-`, as secret names allow. */
const pathId = idText(128);

/** The seed: 1–32 characters, starts with a letter, letters, digits and underscores only. */
export const adminName = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(32),
    z.regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'must start with a letter and contain only letters, digits and "_"'),
  );

export const manageDdmAdminRequest = z.strictObject({
  project_id: pathId,
  instance_id: pathId,
  body: z.strictObject({
    name: adminName,
    /** The policy check names the real rules (8–32, three of four classes); this bound keeps work small. */
    password: passwordText(256),
  }),
});

export type ManageDdmAdminRequest = z.infer<typeof manageDdmAdminRequest>;
