/**
 * argon2id password hashing with PHC strings: the port, its parameters and the PHC rules.
 * The binding-backed implementation is an adapter (functions/adapters/argon2-hasher.ts), so
 * the core modules every function loads never load the native addon.
 */

/** OWASP's minimum for argon2id: 19 MiB of memory, two passes, one lane. */
export const ARGON2ID_PARAMETERS = {
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

/**
 * A hash of a random password nobody knows, with the same parameters as every real hash.
 * Verifying an unknown user's attempt against it costs exactly what a real check costs, so
 * timing does not tell an unknown username from a wrong password.
 */
export const DUMMY_HASH =
  '$argon2id$v=19$m=19456,t=2,p=1$HLAaGaLs7LI0mOhjvJ7PHg$I6qmXQOI4JfdSOFaq7QS9pBe/fEiZr+kilPMSN0ANpw';

/** Hashes and verifies passwords. Implementations must verify in constant time. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(phc: string, password: string): Promise<boolean>;
}

/** Whether a PHC string uses weaker parameters than today's, so it can be rehashed on sign-in. */
export function needsRehash(phc: string): boolean {
  const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(phc);
  if (!match) return true;
  const [, m, t, p] = match.map(Number);
  return (
    (m ?? 0) < ARGON2ID_PARAMETERS.memoryCost ||
    (t ?? 0) < ARGON2ID_PARAMETERS.timeCost ||
    (p ?? 0) < ARGON2ID_PARAMETERS.parallelism
  );
}

/**
 * NIST SP 800-63B-4 §3.1.1.2: a password is hashed in Unicode normalisation form NFKC, so
 * that one password typed on two keyboards (a full-width `Ａ`, a composed or decomposed `é`)
 * is one password. New hashes only: a PHC string made before this (of the password exactly as
 * given) keeps verifying, by a second verification of the raw text when the NFKC form fails
 * and differs. ASCII text is its own NFKC form, so it costs nothing extra; the second try
 * depends only on the text given, never on the account, so timing tells no account apart.
 */
export function nfkcHasher(inner: PasswordHasher): PasswordHasher {
  return {
    hash: (password) => inner.hash(password.normalize('NFKC')),
    async verify(phc, password) {
      const normalized = password.normalize('NFKC');
      if (await inner.verify(phc, normalized)) return true;
      return normalized !== password && inner.verify(phc, password);
    },
  };
}
