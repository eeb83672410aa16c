/**
 * argon2id password hashing with PHC strings, through the native @node-rs/argon2 binding.
 */
import { createRequire } from 'node:module';

// The binding is CommonJS around a native addon. Loading it with `require` rather than an ES
// `import` skips the ESM-to-CommonJS translation, which measured ~7 ms of every cold start.
// (`import.meta.url` is undefined when bundled as CommonJS; `__filename` then exists.)
const load = createRequire(import.meta.url ?? __filename);
const { hash, verify } = load('@node-rs/argon2') as typeof import('@node-rs/argon2');

/** OWASP's minimum for argon2id: 19 MiB of memory, two passes, one lane. */
export const ARGON2ID_PARAMETERS = {
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

// `Algorithm` is a const enum in the binding's typings; 2 is its Argon2id member.
const ARGON2ID = 2;

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

/**
 * The argon2id hasher. Hashing runs on libuv's thread pool, so it does not block the event
 * loop; the binding's verify is the RustCrypto `argon2` crate's, which compares digests in constant time.
 */
export const argon2idHasher: PasswordHasher = {
  hash: (password) => hash(password, { ...ARGON2ID_PARAMETERS, algorithm: ARGON2ID }),
  async verify(phc, password) {
    try {
      return await verify(phc, password);
    } catch {
      // A malformed stored hash verifies nothing; it must never become a 500 that differs
      // from a wrong password.
      return false;
    }
  },
};

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
