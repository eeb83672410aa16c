/**
 * Request schema of `PUT /20160918/changepassword` (seed 001). The same fields arrive as the
 * seed's query parameters or as a JSON body; both are checked by this one strict schema
 * before anything is read from the directory or hashed.
 */
import * as z from 'zod/mini';

/**
 * No password is longer than this. The cap keeps an attacker from making argon2id hash
 * megabytes; the realm's policy sets the real (shorter) maximum of a new password.
 */
export const MAX_PASSWORD_LENGTH = 256;

/** A password as given: its characters are the policy's business, after authentication. */
const password = z.string().check(z.minLength(1), z.maxLength(MAX_PASSWORD_LENGTH));

/** Usernames and tenancy names or OCIDs: visible text, no control or format characters. */
const name = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(255),
    z.regex(/^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+$/u, 'may not contain control characters'),
  );

export const changePasswordRequest = z.strictObject({
  username: name,
  currentPassword: password,
  newPassword: password,
  tenancy: z.optional(name),
});

export type ChangePasswordRequest = z.infer<typeof changePasswordRequest>;
