/**
 * Setting a password an admin chose for a directory user: hashed into a credential, never
 * stored in the vault (the admin already holds it). The realm's policy judges it, as it
 * judges every password of the directory; an operation whose vendor states a rule of its own
 * passes it in, and the password must meet both.
 */
import { subjectOf } from '../authentication.ts';
import { actedBy, assertPasswordSettable, loadUserForAdmin, setGivenPassword } from '../credentials.ts';
import { aboutSubject, ConflictError, InvalidInputError } from '../errors.ts';
import type { AdminPrincipal, Credential, CredentialKind, Realm } from '../model.ts';
import {
  checkChosenPassword,
  checkPassword,
  type PasswordPolicy,
  type PolicyViolation,
  realmContextWords,
  resolvePolicy,
} from '../policy.ts';
import type { CoreDeps } from '../ports.ts';
import { authorize } from './authorize.ts';

export interface SetPasswordInput {
  /** The realm the request names; the principal must be acting in it. */
  realmId: string;
  userId: string;
  password: string;
  /** TEMPORARY: must be changed at next sign-in, and expires after the realm's lifetime. */
  kind: CredentialKind;
  requestId: string;
}

/** What the calling operation decides. */
export interface SetPasswordRules {
  /** A rule the vendor states besides the realm's, checked first, before the directory is read. */
  seedPolicy?: PasswordPolicy;
  /** The parameter a refused password is named by, in the caller's words. */
  passwordField: string;
  /** The log line's message. */
  logAs: string;
}

/** The reason of a password refused by a policy (the seed's or the realm's). */
export const PASSWORD_POLICY_REFUSED = 'PasswordPolicy';

/** The reason of a given password refused because the realm lets no admin choose one. */
export const ADMINS_MAY_NOT_CHOOSE = 'AdminChosenPasswordDisabled';

/**
 * Refuses an admin-chosen password in a realm whose `adminsChoosePasswords` is off (OWASP
 * ASVS: an administrator never knows a user's password). Only generated, vaulted passwords
 * are issued there.
 */
export function assertAdminsMayChoose(realm: Realm): void {
  if (realm.adminsChoosePasswords === false) {
    throw new ConflictError(
      'This realm does not let administrators choose passwords: only generated passwords can be issued.',
      { reason: ADMINS_MAY_NOT_CHOOSE },
    );
  }
}

/**
 * Sets the password. Every refusal happens before anything is written: another realm
 * (Forbidden), a password the seed's rule refuses (InvalidInput, before the directory is
 * read), an unknown user (NotFound), a realm with SSO logon or a federated user (Conflict),
 * a realm that lets no admin choose passwords (Conflict), a password the realm's policy,
 * its blocklist or its context words refuse (InvalidInput).
 */
export async function setPassword(
  deps: CoreDeps,
  admin: AdminPrincipal,
  input: SetPasswordInput,
  rules: SetPasswordRules,
): Promise<void> {
  authorize(admin, input.realmId);
  if (rules.seedPolicy) {
    refuseIf(checkPassword(rules.seedPolicy, input.password), rules.seedPolicy, rules.passwordField);
  }
  const { user, realm } = await loadUserForAdmin(deps, admin, input.userId);
  // From here on, a refusal or failure names the user the directory found (the audit trail).
  await aboutSubject(subjectOf(user), async () => {
    // SSO logon, then a federated user: before the realm's policy is even looked at.
    assertPasswordSettable(user, realm);
    assertAdminsMayChoose(realm);
    // The realm's policy is the directory's rule for every password, whichever dialect sets it,
    // with its blocklist and context words: the seed's rules and the realm's both apply.
    const policy = resolvePolicy(realm.policy);
    refuseIf(
      checkChosenPassword(policy, input.password, {
        username: user.username,
        contextWords: realmContextWords(realm, deps.config.serviceWords),
        blocklist: deps.blocklist,
      }),
      policy,
      rules.passwordField,
    );
    const credential = await givenCredential(deps, realm, input.password, input.kind);
    await setGivenPassword(deps, user, realm, credential);
    deps.log.info(rules.logAs, { ...actedBy(admin, input.requestId), userId: user.userId, kind: input.kind });
  });
}

/** Refuses a password that broke a rule of `policy`, naming the parameter and the rule only. */
function refuseIf(violation: PolicyViolation | undefined, policy: PasswordPolicy, field: string): void {
  if (violation) {
    throw new InvalidInputError(`Parameter ${field} ${violation.message} (policy ${policy.name}).`, {
      reason: PASSWORD_POLICY_REFUSED,
      field,
    });
  }
}

/**
 * The credential for an admin-given password. No secret: the admin already holds it. A
 * TEMPORARY one expires after the realm's temporary-password lifetime, like a generated one.
 */
async function givenCredential(
  deps: Pick<CoreDeps, 'hasher' | 'clock'>,
  realm: Realm,
  password: string,
  kind: CredentialKind,
): Promise<Credential> {
  const hash = await deps.hasher.hash(password);
  const now = deps.clock.now();
  const setAt = now.toISOString();
  if (kind === 'PERMANENT') return { hash, kind, setAt };
  const expiresAt = new Date(now.getTime() + realm.temporaryPasswordLifetimeSeconds * 1000).toISOString();
  return { hash, kind, setAt, expiresAt };
}
