import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cryptoRandom,
  generatePassword,
  type RandomSource,
  UnsatisfiablePolicyError,
} from '#core/generator.ts';
import {
  ASCII_SPECIALS,
  checkPassword,
  DIGITS,
  generationAlphabet,
  type PasswordPolicy,
  POLICY_PRESET_NAMES,
  POLICY_PRESETS,
} from '#core/policy.ts';

function policyOf(overrides: Partial<PasswordPolicy>): PasswordPolicy {
  return {
    name: 'test',
    minLength: 1,
    maxLength: 64,
    specials: '',
    required: [],
    minClasses: 0,
    allowOtherCharacters: false,
    forbidUsername: false,
    historyDepth: 0,
    generatedLength: 1,
    blocklist: false,
    ...overrides,
  };
}

/** Records every bound the generator asks for, drawing from the real CSPRNG. */
function recordingRandom(): RandomSource & { bounds: number[] } {
  const bounds: number[] = [];
  return {
    bounds,
    int(maxExclusive) {
      bounds.push(maxExclusive);
      return cryptoRandom.int(maxExclusive);
    },
  };
}

/**
 * A seeded, exactly uniform source (mulberry32 with rejection), so the statistical tests
 * below see the same draws on every run: they test the generator, not the luck of the day.
 */
function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  const next32 = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return {
    int(maxExclusive) {
      const limit = Math.floor(0x1_0000_0000 / maxExclusive) * maxExclusive;
      let x = next32();
      while (x >= limit) x = next32();
      return x % maxExclusive;
    },
  };
}

function chiSquare(observed: number[], expected: number[]): number {
  return observed.reduce((sum, o, i) => {
    const e = expected[i] ?? 0;
    return sum + (o - e) ** 2 / e;
  }, 0);
}

const presetName = fc.constantFrom(...POLICY_PRESET_NAMES);
const username = fc.string({ minLength: 0, maxLength: 16 });

describe('generatePassword', () => {
  it('generates, under every preset and for any username, a password the preset accepts', () => {
    fc.assert(
      fc.property(presetName, username, (name, user) => {
        const policy: PasswordPolicy = POLICY_PRESETS[name];
        const password = generatePassword(policy, { username: user });
        expect(checkPassword(policy, password, { username: user })).toBeUndefined();
      }),
    );
  });

  it('generates exactly the preset’s generated length, from its alphabet only', () => {
    fc.assert(
      fc.property(presetName, username, (name, user) => {
        const policy: PasswordPolicy = POLICY_PRESETS[name];
        const alphabet = new Set(generationAlphabet(policy));
        const chars = Array.from(generatePassword(policy, { username: user }));
        expect(chars).toHaveLength(policy.generatedLength);
        for (const ch of chars) expect(alphabet.has(ch)).toBe(true);
      }),
    );
  });

  it('keeps the generated length within the policy’s bounds', () => {
    expect(generatePassword(policyOf({ minLength: 8, maxLength: 32, generatedLength: 4 }))).toHaveLength(8);
    expect(generatePassword(policyOf({ minLength: 8, maxLength: 32, generatedLength: 50 }))).toHaveLength(32);
  });

  it('draws every character with int(alphabet length), never a wider draw reduced modulo', () => {
    fc.assert(
      fc.property(presetName, username, (name, user) => {
        const policy: PasswordPolicy = POLICY_PRESETS[name];
        const random = recordingRandom();
        generatePassword(policy, { username: user }, random);
        const alphabetLength = Array.from(generationAlphabet(policy)).length;
        expect(random.bounds.length).toBeGreaterThan(0);
        // Whole candidates are drawn: a multiple of the length, each draw over the whole alphabet.
        expect(random.bounds.length % policy.generatedLength).toBe(0);
        expect(new Set(random.bounds)).toEqual(new Set([alphabetLength]));
      }),
    );
  });

  it('picks every character of the alphabet equally often', () => {
    // 62 letters and digits, one character per password: a fair die with 62 faces.
    const policy = policyOf({});
    const alphabet = Array.from(generationAlphabet(policy));
    const random = seededRandom(20260115);
    const perFace = 200;
    const counts = new Map<string, number>();
    for (let i = 0; i < alphabet.length * perFace; i++) {
      const ch = generatePassword(policy, {}, random);
      counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    const observed = alphabet.map((ch) => counts.get(ch) ?? 0);
    // 61 degrees of freedom: mean 61, p = 0.001 at about 100. The bound is loose on purpose.
    expect(
      chiSquare(
        observed,
        observed.map(() => perFace),
      ),
    ).toBeLessThan(110);
  });

  it('is uniform over the passwords the policy accepts, not biased towards required classes', () => {
    // Two characters, a digit required: 62² − 52² = 1140 accepted passwords, of which
    // 100 are two digits. "Force a digit, then draw the rest" would give two digits in
    // 10/62 ≈ 16% of cases; a uniform generator in 100/1140 ≈ 8.8%.
    const policy = policyOf({ generatedLength: 2, minLength: 2, required: ['digit'] });
    const random = seededRandom(42);
    const draws = 20_000;
    const patterns = { 'digit+other': 0, 'other+digit': 0, 'digit+digit': 0 };
    for (let i = 0; i < draws; i++) {
      const [a = '', b = ''] = Array.from(generatePassword(policy, {}, random));
      const key = `${DIGITS.includes(a) ? 'digit' : 'other'}+${DIGITS.includes(b) ? 'digit' : 'other'}`;
      if (!(key in patterns)) throw new Error(`a password without a digit: pattern ${key}`);
      patterns[key as keyof typeof patterns]++;
    }
    const expected = [520, 520, 100].map((n) => (n / 1140) * draws);
    // 2 degrees of freedom: p = 0.001 at 13.8. A forcing generator scores in the thousands.
    expect(chiSquare(Object.values(patterns), expected)).toBeLessThan(20);
  });

  it('throws UnsatisfiablePolicyError for a policy no password can meet', () => {
    // A special character is required but the policy lists none.
    const impossible = policyOf({
      name: 'impossible',
      generatedLength: 4,
      minLength: 4,
      required: ['special'],
    });
    expect(() => generatePassword(impossible)).toThrow(UnsatisfiablePolicyError);
    expect(() => generatePassword(impossible)).toThrow(/impossible/);
  });

  it('throws UnsatisfiablePolicyError when more classes are asked for than exist', () => {
    const impossible = policyOf({
      generatedLength: 4,
      minLength: 4,
      specials: ASCII_SPECIALS,
      minClasses: 5,
    });
    expect(() => generatePassword(impossible)).toThrow(UnsatisfiablePolicyError);
  });
});
