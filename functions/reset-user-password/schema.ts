/**
 * Request and response schemas of `POST /cloudsso/2021-05-15/ResetUserPassword` (seed 003).
 * Parameters arrive as query, form or JSON; query and form values are strings, so booleans
 * are accepted as Alibaba writes them (`True`/`False`), lower-case, or as JSON booleans.
 */
import * as z from 'zod/mini';
import { idText, passwordText } from '#http/text.ts';

/** The parameters a caller may send, in the seed's spelling. */
export const PARAMETER_NAMES = [
  'DirectoryId',
  'UserId',
  'Password',
  'GenerateRandomPassword',
  'RequirePasswordResetForNextLogin',
] as const;

export type ParameterName = (typeof PARAMETER_NAMES)[number];

/** Parameters without which the request means nothing. */
export const REQUIRED_PARAMETERS: readonly ParameterName[] = ['DirectoryId', 'UserId'];

/** CloudSSO ids (`d-00fc2p61****`, `u-00q8wbq42wiltcrk****`) and rekey's own: safe in a secret name. */
const cloudSsoId = idText(128);

const BOOLEAN_WORDS: Readonly<Record<string, boolean>> = {
  True: true,
  true: true,
  False: false,
  false: false,
};

/** `True`/`False` (Alibaba's spelling), `true`/`false`, or a JSON boolean. */
export const alibabaBoolean = z.pipe(
  z.custom<boolean | string>(
    (value) =>
      typeof value === 'boolean' || (typeof value === 'string' && Object.hasOwn(BOOLEAN_WORDS, value)),
    'must be True or False',
  ),
  z.transform((value: boolean | string) =>
    typeof value === 'boolean' ? value : BOOLEAN_WORDS[value] === true,
  ),
);

export const resetUserPasswordRequest = z.strictObject({
  DirectoryId: cloudSsoId,
  UserId: cloudSsoId,
  /** The policy check names the real rules; this bound only keeps hashing cheap. */
  Password: z.optional(passwordText(256)),
  GenerateRandomPassword: z.optional(alibabaBoolean),
  RequirePasswordResetForNextLogin: z.optional(alibabaBoolean),
});

export type ResetUserPasswordRequest = z.infer<typeof resetUserPasswordRequest>;

/**
 * The success body (before the dialect adds `RequestId`): `NewPassword` is replaced by the
 * id of the secret that holds it and the time that secret is deleted; a given password
 * gets an empty body.
 */
export const resetUserPasswordResponse = z.union([
  z.strictObject({ NewPasswordSecretId: z.string(), NewPasswordSecretExpiresAt: z.iso.datetime() }),
  z.strictObject({}),
]);

export type ResetUserPasswordResponse = z.infer<typeof resetUserPasswordResponse>;
