/**
 * Password policies: what a password must and must not contain, checked the same way for a
 * password a caller gives and a password rekey generates.
 */

export type CharacterClass = 'lower' | 'upper' | 'digit' | 'special';

export interface PasswordPolicy {
  name: string;
  minLength: number;
  maxLength: number;
  /** The special characters this policy allows (letters and digits are always allowed). */
  specials: string;
  /** Classes that must each appear at least once. */
  required: CharacterClass[];
  /** At least this many different classes must appear (Huawei IAM: two). */
  minClasses: number;
  /** Allow printable characters outside the four classes, Unicode included (NIST). */
  allowOtherCharacters: boolean;
  /** Refuse a password that contains the username (case-insensitive), or its reverse. */
  forbidUsername: boolean;
  /** How many previous passwords may not be reused (the current one never may). */
  historyDepth: number;
  /** Length of the passwords rekey generates under this policy. */
  generatedLength: number;
  /**
   * Refuse a password a person chooses when it is, whole and in any case, on the list of
   * common and breached passwords, or when it contains a context word (the username, the
   * realm's id or name, the service's own names). On in every preset; a realm may turn it off.
   */
  blocklist: boolean;
}

/**
 * The list of common and breached passwords (an adapter reads it from the artifact built at
 * build time). `has` matches the whole password, NFKC-normalised and case-insensitively.
 */
export interface PasswordBlocklist {
  readonly size: number;
  has(password: string): boolean;
}

export const LOWER = 'abcdefghijklmnopqrstuvwxyz';
export const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const DIGITS = '0123456789';
/** Every printable ASCII character that is not a letter, a digit or a space. */
export const ASCII_SPECIALS = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

const ALL_CLASSES: CharacterClass[] = ['lower', 'upper', 'digit', 'special'];

/**
 * Named presets. Where a seed states rules they are copied here; where it states none the
 * values are rekey's choice, recorded in docs/decisions.md.
 */
export const POLICY_PRESETS = {
  /** Oracle IAM (seeds 000/001 state no rules): 12–40, upper, lower and digit, no username. */
  oci: {
    name: 'oci',
    minLength: 12,
    maxLength: 40,
    specials: ASCII_SPECIALS,
    required: ['lower', 'upper', 'digit'],
    minClasses: 3,
    allowOtherCharacters: false,
    forbidUsername: true,
    historyDepth: 4,
    generatedLength: 20,
    blocklist: true,
  },
  /** Huawei IAM (seed 002 states none): Huawei's default of 8–32 and at least two classes. */
  'huawei-iam': {
    name: 'huawei-iam',
    minLength: 8,
    maxLength: 32,
    specials: ASCII_SPECIALS,
    required: [],
    minClasses: 2,
    allowOtherCharacters: false,
    forbidUsername: true,
    historyDepth: 1,
    generatedLength: 20,
    blocklist: true,
  },
  /** Alibaba CloudSSO (seed 003): 8–32 with upper, lower, digit and special characters. */
  'alibaba-cloudsso': {
    name: 'alibaba-cloudsso',
    minLength: 8,
    maxLength: 32,
    specials: ASCII_SPECIALS,
    required: ['lower', 'upper', 'digit', 'special'],
    minClasses: 4,
    allowOtherCharacters: false,
    forbidUsername: false,
    historyDepth: 1,
    generatedLength: 20,
    blocklist: true,
  },
  /**
   * Huawei DDM administrator (seed 004): 8–32, at least three of the four classes, specials
   * from ~!@#%^*-_=+? only. The seed's "a combination of uppercase letters, lowercase letters,
   * digits, and special characters" is worded "at least three types of" in the same API's page
   * at Open Telekom Cloud, which runs DDM (docs/decisions.md, "Policy presets").
   */
  'huawei-ddm': {
    name: 'huawei-ddm',
    minLength: 8,
    maxLength: 32,
    specials: '~!@#%^*-_=+?',
    required: [],
    minClasses: 3,
    allowOtherCharacters: false,
    forbidUsername: false,
    historyDepth: 0,
    generatedLength: 20,
    blocklist: true,
  },
  /**
   * NIST SP 800-63B-4 (final, August 2025) §3.1.1.2, a password used as a single factor: at
   * least 15 characters, 64 allowed, every printable character and the space, Unicode counted
   * by code point, no composition rule, and every chosen password checked against a blocklist
   * and context words. (Hashes are of the NFKC form: functions/core/hashing.ts.)
   */
  'nist-800-63b': {
    name: 'nist-800-63b',
    minLength: 15,
    maxLength: 64,
    specials: ASCII_SPECIALS,
    required: [],
    minClasses: 0,
    allowOtherCharacters: true,
    forbidUsername: true,
    historyDepth: 0,
    generatedLength: 20,
    blocklist: true,
  },
} as const satisfies Record<string, PasswordPolicy>;

export type PolicyPresetName = keyof typeof POLICY_PRESETS;

export const POLICY_PRESET_NAMES = Object.keys(POLICY_PRESETS) as PolicyPresetName[];

/**
 * The policy a realm uses: a preset by name, or its own. An own policy stored before the
 * blocklist existed has no `blocklist` field: it is on, as in every preset.
 */
export function resolvePolicy(policy: PolicyPresetName | PasswordPolicy): PasswordPolicy {
  if (typeof policy === 'string') return POLICY_PRESETS[policy] as PasswordPolicy;
  return typeof (policy as Partial<PasswordPolicy>).blocklist === 'boolean'
    ? policy
    : { ...policy, blocklist: true };
}

/** The longest maximum length a policy may set (the request schemas accept 256 UTF-16 units). */
export const POLICY_MAX_LENGTH_CAP = 128;
/** NIST SP 800-63B-4: no password, even one of several factors, is shorter than 8. */
export const POLICY_MIN_LENGTH_FLOOR = 8;

/**
 * What is wrong with a policy a realm would use, one sentence per problem; empty when it is
 * sound. A policy must be satisfiable (the generator draws candidates it accepts) and stay
 * within what every route's schema lets through.
 */
export function policyProblems(policy: PasswordPolicy): string[] {
  const problems: string[] = [];
  const whole = (n: unknown, min: number, max: number) =>
    Number.isInteger(n) && (n as number) >= min && (n as number) <= max;
  if (typeof policy.name !== 'string' || !/^[a-z0-9][a-z0-9-]{0,63}$/.test(policy.name)) {
    problems.push('name must be 1 to 64 lower-case letters, digits and hyphens');
  }
  if (!whole(policy.minLength, POLICY_MIN_LENGTH_FLOOR, POLICY_MAX_LENGTH_CAP)) {
    problems.push(
      `minLength must be a whole number from ${POLICY_MIN_LENGTH_FLOOR} to ${POLICY_MAX_LENGTH_CAP}`,
    );
  }
  if (
    !whole(policy.maxLength, POLICY_MIN_LENGTH_FLOOR, POLICY_MAX_LENGTH_CAP) ||
    policy.maxLength < policy.minLength
  ) {
    problems.push(`maxLength must be a whole number from minLength to ${POLICY_MAX_LENGTH_CAP}`);
  }
  const specials = typeof policy.specials === 'string' ? Array.from(policy.specials) : [];
  if (
    typeof policy.specials !== 'string' ||
    specials.some((ch) => !ASCII_SPECIALS.includes(ch)) ||
    new Set(specials).size !== specials.length
  ) {
    problems.push(
      'specials must be distinct printable ASCII characters that are not letters, digits or spaces',
    );
  }
  const available = ALL_CLASSES.filter((c) => c !== 'special' || specials.length > 0);
  if (
    !Array.isArray(policy.required) ||
    policy.required.some((c) => !available.includes(c)) ||
    new Set(policy.required).size !== policy.required.length
  ) {
    problems.push(`required must list distinct classes of: ${available.join(', ')}`);
  }
  if (!whole(policy.minClasses, 0, available.length)) {
    problems.push(`minClasses must be a whole number from 0 to ${available.length}`);
  }
  for (const flag of ['allowOtherCharacters', 'forbidUsername', 'blocklist'] as const) {
    if (typeof policy[flag] !== 'boolean') problems.push(`${flag} must be true or false`);
  }
  if (!whole(policy.historyDepth, 0, 24)) problems.push('historyDepth must be a whole number from 0 to 24');
  if (!whole(policy.generatedLength, 12, POLICY_MAX_LENGTH_CAP)) {
    problems.push(`generatedLength must be a whole number from 12 to ${POLICY_MAX_LENGTH_CAP}`);
  } else if (
    Number.isInteger(policy.minLength) &&
    Number.isInteger(policy.maxLength) &&
    (policy.generatedLength < policy.minLength || policy.generatedLength > policy.maxLength)
  ) {
    problems.push('generatedLength must be from minLength to maxLength');
  }
  if (
    problems.length === 0 &&
    Math.max(policy.required.length, policy.minClasses) > Math.min(policy.generatedLength, available.length)
  ) {
    problems.push('the required classes cannot all fit in a generated password');
  }
  return problems;
}

/** A rule a password broke, named so a caller can fix it; never includes the password. */
export interface PolicyViolation {
  rule: 'length' | 'character' | 'required-class' | 'class-count' | 'username' | 'blocklist' | 'context-word';
  message: string;
}

/** The class of one character, or undefined when it is in none of the four. */
export function classOf(ch: string, policy: PasswordPolicy): CharacterClass | undefined {
  if (LOWER.includes(ch)) return 'lower';
  if (UPPER.includes(ch)) return 'upper';
  if (DIGITS.includes(ch)) return 'digit';
  if (policy.specials.includes(ch)) return 'special';
  return undefined;
}

// Control, format (bidi overrides, zero-width), surrogate and private-use code points, and
// spaces of every kind but U+0020 (a no-break space looks like a space but is not one), are
// never part of a password, whatever the policy: they hide what a password really is. The
// space itself is a character like any other: NIST SP 800-63B-4 asks that it be accepted, so
// a policy open to other characters takes it, and the others refuse it as outside their set.
export const NEVER_ALLOWED =
  /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/u;

/** The alphabet a generator draws from under this policy. */
export function generationAlphabet(policy: PasswordPolicy): string {
  return LOWER + UPPER + DIGITS + policy.specials;
}

/**
 * Checks a password against a policy and returns the first rule it breaks, or undefined.
 * Lengths count code points, as a person would.
 */
export function checkPassword(
  policy: PasswordPolicy,
  password: string,
  context: { username?: string } = {},
): PolicyViolation | undefined {
  const chars = Array.from(password);
  if (chars.length < policy.minLength || chars.length > policy.maxLength) {
    return {
      rule: 'length',
      message: `must be ${policy.minLength} to ${policy.maxLength} characters long`,
    };
  }
  const present = new Set<CharacterClass>();
  for (const ch of chars) {
    const cls = classOf(ch, policy);
    if (cls) present.add(cls);
    else if (!policy.allowOtherCharacters || NEVER_ALLOWED.test(ch)) {
      return { rule: 'character', message: `may contain only ${describeAllowed(policy)}` };
    }
  }
  for (const cls of policy.required) {
    if (!present.has(cls)) {
      return { rule: 'required-class', message: `must contain ${describeClasses(policy.required, policy)}` };
    }
  }
  if (present.size < policy.minClasses) {
    return {
      rule: 'class-count',
      message: `must combine at least ${policy.minClasses} of: ${describeClasses(ALL_CLASSES, policy)}`,
    };
  }
  const username = context.username?.toLowerCase();
  if (policy.forbidUsername && username && username.length >= 3) {
    const lowered = password.toLowerCase();
    const reversed = Array.from(username).reverse().join('');
    if (lowered.includes(username) || lowered.includes(reversed)) {
      return { rule: 'username', message: 'must not contain the username' };
    }
  }
  return undefined;
}

/** What a chosen password is checked against besides its policy's rules. */
export interface ChosenPasswordContext {
  /** The user (or account) whose password it is. */
  username?: string;
  /** Words no chosen password may contain: the realm's id and name, the service's own names. */
  contextWords?: readonly string[];
  blocklist: PasswordBlocklist;
}

/** The context words of a realm: its id and name, and the service's own names. */
export function realmContextWords(
  realm: { realmId: string; name: string },
  serviceWords: readonly string[],
): string[] {
  return [realm.realmId, realm.name, ...serviceWords];
}

/** Context words shorter than this are not checked: `oci` is in `ferocious`. (The username's rule keeps 3.) */
export const MIN_CONTEXT_WORD_LENGTH = 4;

/** How a password and a context word are compared: NFKC, lower case. */
function foldForMatch(text: string): string {
  return text.normalize('NFKC').toLowerCase().normalize('NFKC');
}

/**
 * Checks a password a person chose (a new password, an admin's given one): the policy's rules
 * first, then, when the policy's `blocklist` is on, the blocklist (the whole password) and the
 * context words (anywhere in it, in any case). Generated passwords are judged by
 * checkPassword alone: drawn uniformly from at least 62^15 candidates, they land on a list of
 * some 415 000 entries with a probability below 2^-70.
 */
export function checkChosenPassword(
  policy: PasswordPolicy,
  password: string,
  context: ChosenPasswordContext,
): PolicyViolation | undefined {
  const violation = checkPassword(
    policy,
    password,
    context.username === undefined ? {} : { username: context.username },
  );
  if (violation || !policy.blocklist) return violation;
  if (context.blocklist.has(password)) {
    return { rule: 'blocklist', message: 'must not be a commonly used or breached password' };
  }
  const folded = foldForMatch(password);
  const username = context.username === undefined ? [] : [foldForMatch(context.username)];
  const words = (context.contextWords ?? [])
    .map(foldForMatch)
    .filter((w) => w.length >= MIN_CONTEXT_WORD_LENGTH);
  const hit =
    username.some((w) => w.length >= 3 && folded.includes(w)) || words.some((w) => folded.includes(w));
  if (hit) {
    return {
      rule: 'context-word',
      message: "must not contain the username, the realm's id or name, or the service's name",
    };
  }
  return undefined;
}

function describeClasses(classes: readonly CharacterClass[], policy: PasswordPolicy): string {
  const names: Record<CharacterClass, string> = {
    lower: 'lowercase letters',
    upper: 'uppercase letters',
    digit: 'digits',
    special: `special characters (${policy.specials})`,
  };
  return classes.map((c) => names[c]).join(', ');
}

function describeAllowed(policy: PasswordPolicy): string {
  if (policy.allowOtherCharacters) return 'printable characters and the space, without control characters';
  return `letters, digits and ${policy.specials}`;
}
