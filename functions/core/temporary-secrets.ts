/**
 * Names of temporary-password secrets, and how an index entry (which knows a secret by name)
 * is matched to a credential (which knows it by ARN).
 */
import type { Credential } from './model.ts';

/**
 * Secrets Manager reads an id ending in a hyphen and six characters as an ARN's random
 * suffix, so a *name* ending that way may not be found by name — and a delete that finds
 * nothing looks like success. Names never end that way: see temporarySecretName.
 */
const LOOKS_LIKE_ARN_SUFFIX = /-[A-Za-z0-9]{6}$/;

/** The ARN of a secret: `arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-XXXXXX`. */
const SECRET_ARN = /^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:(.+)-[A-Za-z0-9]{6}$/;

/**
 * The name of the secret that holds one generated password:
 * `{prefix}{realmId}/{userId}/{requestId}`, with `_` appended in the rare case the request
 * id would make it end like an ARN suffix (a local request id `…x-AbC12z`, for instance),
 * so that deleting it by name can never silently miss it.
 */
export function temporarySecretName(
  prefix: string,
  realmId: string,
  userId: string,
  requestId: string,
): string {
  return deletableByName(`${prefix}${realmId}/${userId}/${requestId}`);
}

/**
 * `name`, with `_` appended when it would end like an ARN suffix, so that a delete by name
 * (a compensation that only knows the name it asked for) finds exactly this secret.
 */
export function deletableByName(name: string): string {
  return LOOKS_LIKE_ARN_SUFFIX.test(name) ? `${name}_` : name;
}

/** The name inside a secret's ARN; an id that is not an ARN is taken to be a name already. */
export function secretNameOf(secretId: string): string {
  return SECRET_ARN.exec(secretId)?.[1] ?? secretId;
}

/** Whether `credential` holds its password in the secret named `name`. */
export function referencesSecret(credential: Credential | undefined, name: string): boolean {
  return credential?.secretId !== undefined && secretNameOf(credential.secretId) === name;
}
