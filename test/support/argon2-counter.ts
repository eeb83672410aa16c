/**
 * Counts argon2id work: wraps a runtime's hasher so a test can prove that a refused request
 * never reached a hash or a verification (hostile input must be refused before that cost).
 */
import type { PasswordHasher } from '#core/hashing.ts';

export interface Argon2Counter {
  /** The hasher, counting every `hash` and `verify`. */
  wrap(hasher: PasswordHasher): PasswordHasher;
  /** Calls counted so far, over every hasher wrapped. */
  readonly calls: number;
  reset(): void;
}

/** A counter shared by every hasher it wraps (one per route runtime). */
export function argon2Counter(): Argon2Counter {
  let calls = 0;
  return {
    wrap: (hasher) => ({
      hash: (password) => {
        calls++;
        return hasher.hash(password);
      },
      verify: (phc, password) => {
        calls++;
        return hasher.verify(phc, password);
      },
    }),
    get calls() {
      return calls;
    },
    reset: () => {
      calls = 0;
    },
  };
}
