/**
 * What the end user's page shows before anyone types: a realm's password rules, described
 * from its policy object. The lookup answers an unknown tenancy (or none) with the default
 * realm policy's rules, byte for byte, so the rules never say whether a realm exists.
 */

import { DEFAULT_REALM_POLICY } from '#core/factories.ts';
import { type CharacterClass, type PasswordPolicy, resolvePolicy } from '#core/policy.ts';
import type { Directory } from '#core/ports.ts';

/** The rules as the page reads them (GET /password/rules). Never anything about a user. */
export interface PasswordRules {
  minLength: number;
  maxLength: number;
  /** Classes that must each appear. */
  requiredClasses: CharacterClass[];
  /** At least this many of the four classes. */
  minClasses: number;
  /** The special characters counted as the `special` class. */
  specials: string;
  /** Printable characters outside the four classes are allowed (Unicode included). */
  otherCharacters: boolean;
  /** The password may not contain the username. */
  notUsername: boolean;
  /** How many earlier passwords may not be reused (the current one never may). */
  recentPasswords: number;
  /** The password may not be a common or breached one (a blocklist). */
  notCommon: boolean;
}

/**
 * A policy's blocklist flag, read generically: a policy that refuses common or breached
 * passwords says so with a `true` `blocklist` property (the NIST SP 800-63B-4 preset, issue
 * 13). Absent or anything else: no such rule is shown.
 */
export function refusesCommonPasswords(policy: PasswordPolicy): boolean {
  return (policy as PasswordPolicy & { blocklist?: unknown }).blocklist === true;
}

/** The rules of one policy, in a fixed key order (the same policy gives the same bytes). */
export function rulesOf(policy: PasswordPolicy): PasswordRules {
  return {
    minLength: policy.minLength,
    maxLength: policy.maxLength,
    requiredClasses: [...policy.required],
    minClasses: policy.minClasses,
    specials: policy.specials,
    otherCharacters: policy.allowOtherCharacters,
    notUsername: policy.forbidUsername,
    recentPasswords: policy.historyDepth,
    notCommon: refusesCommonPasswords(policy),
  };
}

/** The rules every unknown or unnamed tenancy gets: those of a realm created with the defaults. */
export const DEFAULT_RULES: PasswordRules = rulesOf(resolvePolicy(DEFAULT_REALM_POLICY));

/**
 * The rules of the realm named (by id or by name), or DEFAULT_RULES when none is named or
 * none has that id or name. The directory is asked in both cases where a name is given, so
 * the two answers also take the same work.
 */
export async function rulesFor(
  directory: Pick<Directory, 'findRealm'>,
  tenancy: string | undefined,
): Promise<PasswordRules> {
  if (tenancy === undefined) return DEFAULT_RULES;
  const realm = await directory.findRealm(tenancy);
  return realm ? rulesOf(resolvePolicy(realm.policy)) : DEFAULT_RULES;
}
