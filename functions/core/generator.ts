/**
 * The password generator: uniform over every password of the policy's generated length
 * that the policy accepts.
 */
import { randomInt } from 'node:crypto';
import { checkPassword, generationAlphabet, type PasswordPolicy } from './policy.ts';

/** A source of uniformly distributed integers in [0, maxExclusive). */
export interface RandomSource {
  int(maxExclusive: number): number;
}

/**
 * Node's CSPRNG. `crypto.randomInt` draws by rejection, so there is no modulo bias.
 */
export const cryptoRandom: RandomSource = { int: (maxExclusive) => randomInt(maxExclusive) };

/** No policy worth having rejects this many uniform draws in a row. */
const MAX_DRAWS = 10_000;

export class UnsatisfiablePolicyError extends Error {
  constructor(policyName: string) {
    super(`policy ${policyName} rejected ${MAX_DRAWS} generated candidates; it cannot be satisfied`);
    this.name = 'UnsatisfiablePolicyError';
  }
}

/**
 * Generates a password the policy accepts. Each character is drawn uniformly from the
 * policy's alphabet and whole candidates that break a rule (a missing class, the username)
 * are thrown away and drawn again. Rejection keeps the result uniform over the accepted
 * set, where "force one of each class, then shuffle" would favour some passwords.
 */
export function generatePassword(
  policy: PasswordPolicy,
  context: { username?: string } = {},
  random: RandomSource = cryptoRandom,
): string {
  const alphabet = Array.from(generationAlphabet(policy));
  const length = Math.min(policy.maxLength, Math.max(policy.minLength, policy.generatedLength));
  for (let draw = 0; draw < MAX_DRAWS; draw++) {
    let candidate = '';
    for (let i = 0; i < length; i++) candidate += alphabet[random.int(alphabet.length)];
    if (checkPassword(policy, candidate, context) === undefined) return candidate;
  }
  throw new UnsatisfiablePolicyError(policy.name);
}
