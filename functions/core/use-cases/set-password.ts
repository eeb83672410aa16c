/**
 * Setting a password an admin chose for a directory user: hashed into a credential, never
 * stored in the vault (the admin already holds it). The realm's policy judges it, as it
 * judges every password of the directory; an operation whose vendor states a rule of its own
 * passes it in, and the password must meet both.
 */
import { actedBy, assertPasswordSettable, loadUserForAdmin, setGivenPassword } from '../credentials.ts';
import { InvalidInputError } from '../errors.ts';
import type { AdminPrincipal, Credential, CredentialKind, Realm } from '../model.ts';
import { checkPassword, type PasswordPolicy, resolvePolicy } from '../policy.ts';
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

/**
 * Sets the password. Every refusal happens before anything is written: another realm
 * (Forbidden), a password the seed's rule refuses (InvalidInput, before the directory is
 * read), an unknown user (NotFound), a realm with SSO logon or a federated user (Conflict),
 * a password the realm's policy refuses (InvalidInput).
 */
export async function setPassword(
  deps: CoreDeps,
  admin: AdminPrincipal,
  input: SetPasswordInput,
  rules: SetPasswordRules,
): Promise<void> {
  authorize(admin, input.realmId);
  if (rules.seedPolicy) assertAcceptable(rules.seedPolicy, input.password, rules.passwordField);
  const { user, realm } = await loadUserForAdmin(deps, admin, input.userId);
  // SSO logon, then a federated user: before the realm's policy is even looked at.
  assertPasswordSettable(user, realm);
  // The realm's policy is the directory's rule for every password, whichever dialect sets it.
  assertAcceptable(resolvePolicy(realm.policy), input.password, rules.passwordField, user.username);
  const credential = await givenCredential(deps, realm, input.password, input.kind);
  await setGivenPassword(deps, user, realm, credential);
  deps.log.info(rules.logAs, { ...actedBy(admin, input.requestId), userId: user.userId, kind: input.kind });
}

/** Refuses a password that breaks `policy`, naming the parameter and the rule only. */
function assertAcceptable(policy: PasswordPolicy, password: string, field: string, username?: string): void {
  const violation = checkPassword(policy, password, username === undefined ? {} : { username });
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
