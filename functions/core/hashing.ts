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
