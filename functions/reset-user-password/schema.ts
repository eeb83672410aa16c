/**
 * Request and response schemas of `POST /cloudsso/2021-05-15/ResetUserPassword` (seed 003).
 * Parameters arrive as query, form or JSON; query and form values are strings, so booleans
 * are accepted as Alibaba writes them (`True`/`False`), lower-case, or as JSON booleans.
 */
import * as z from 'zod/mini';
import { booleanWord } from '#http/boolean-word.ts';
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

/** The operation and version a request must name, when it names one (`/` requires both). */
export const ACTION = 'ResetUserPassword';
export const VERSION = '2021-05-15';

/**
 * Alibaba's common request parameters, as its SDKs send them (RPC style). `Action` and
 * `Version` pick the operation; the others are accepted and ignored: they authenticate
 * nothing here (the bearer token does), and `Signature` is not checked. `BearerToken` is not
 * one of them: a token in a query string lands in access logs, so it is refused as unknown.
 */
export const COMMON_PARAMETER_NAMES = [
  'Action',
  'Version',
  'Format',
  'Timestamp',
  'SignatureNonce',
  'SignatureMethod',
  'SignatureVersion',
  'SignatureType',
  'AccessKeyId',
  'Signature',
  'RegionId',
] as const;

export type CommonParameterName = (typeof COMMON_PARAMETER_NAMES)[number];

/** Any common parameter's value: ignored, so only bounded. */
const commonValue = z.optional(z.string().check(z.maxLength(256)));

/**
 * Every common parameter: an optional string of bounded length. One schema serves all eleven:
 * schemas are built at every cold start (docs/decisions.md, "Cold start, fifth pass").
 */
export const commonParameters = z.strictObject(
  Object.fromEntries(COMMON_PARAMETER_NAMES.map((name) => [name, commonValue])) as Record<
    CommonParameterName,
    typeof commonValue
  >,
);

/** Parameters without which the request means nothing. */
export const REQUIRED_PARAMETERS: readonly ParameterName[] = ['DirectoryId', 'UserId'];

/** CloudSSO ids (`d-00fc2p61****`, `u-00q8wbq42wiltcrk****`) and rekey's own: safe in a secret name. */
const cloudSsoId = idText(128);

/** `True`/`False` (Alibaba's spelling), `true`/`false`, or a JSON boolean. */
export const alibabaBoolean = booleanWord;

export const resetUserPasswordRequest = z.strictObject({
  DirectoryId: cloudSsoId,
  UserId: cloudSsoId,
  /** The policy check names the real rules; this bound only keeps hashing cheap. */
  Password: z.optional(passwordText(256)),
  GenerateRandomPassword: z.optional(alibabaBoolean),
  RequirePasswordResetForNextLogin: z.optional(alibabaBoolean),
});

export type ResetUserPasswordRequest = z.infer<typeof resetUserPasswordRequest>;
