/**
 * Wire fields and wordings several operations share. An operation folder imports no other
 * operation's folder (the architecture rules in .dependency-cruiser.cjs), so what two have in
 * common lives here.
 */
import { ForbiddenError } from '#core/errors.ts';
import { REALM_NOT_GRANTED } from '#core/use-cases/authorize.ts';
import { idText } from './text.ts';

/** Ids in paths: an OCID or any id of letters, digits, `.`, `_` and `-`, as secret names allow. */
export const resourceId = idText(255);

/**
 * Runs a verb and words its tenant refusal (`authorize`'s) as the vendor names a realm: "this
 * project", "this directory". The message still names the rule only, never the id sent; a
 * `reason` refines the vendor's error code where it has one (Alibaba: NoPermission.Directory).
 */
export async function realmAs<T>(
  words: { noun: string; reason?: string },
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ForbiddenError && error.reason === REALM_NOT_GRANTED) {
      throw new ForbiddenError(`The token does not grant access to this ${words.noun}.`, {
        reason: words.reason,
        cause: error,
      });
    }
    throw error;
  }
}
