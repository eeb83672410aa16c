/**
 * Wire fields several operations share. An operation folder imports no other operation's
 * folder (the architecture rules in .dependency-cruiser.cjs), so what two schemas have in
 * common lives here.
 */
import { idText } from './text.ts';

/** Ids in paths: an OCID or any id of letters, digits, `.`, `_` and `-`, as secret names allow. */
export const resourceId = idText(255);
