/**
 * Request schema of `PUT /20160918/changepassword` (seed 001). The same fields arrive as the
 * seed's query parameters or as a JSON body; both are checked by this one strict schema
 * before anything is read from the directory or hashed.
 */
import * as z from 'zod/mini';
import { nameText, passwordText } from '#http/text.ts';

/**
 * No password is longer than this. The cap keeps an attacker from making argon2id hash
 * megabytes; the realm's policy sets the real (shorter) maximum of a new password.
 */
export const MAX_PASSWORD_LENGTH = 256;

/**
 * A password as given. The realm's policy judges a new one after authentication; characters
 * no policy allows (a current password can never contain them either) are refused here,
 * before the directory is read or anything is hashed.
 */
const password = passwordText(MAX_PASSWORD_LENGTH);

/** Usernames and tenancy names or OCIDs: visible text in NFKC form (see `#http/text.ts`). */
const name = nameText(255);

export const changePasswordRequest = z.strictObject({
  username: name,
  currentPassword: password,
  newPassword: password,
  tenancy: z.optional(name),
});

export type ChangePasswordRequest = z.infer<typeof changePasswordRequest>;
