/**
 * What text rekey accepts in a request field, before anything reads the directory or hashes.
 *
 * Names (usernames, tenancy names) are compared as stored, so two spellings of one name must
 * not both be accepted: rekey **refuses** rather than normalises. A name must be in Unicode
 * normalisation form NFKC — which refuses decomposed (NFD) accents, full-width and other
 * compatibility look-alikes (`ａｌｉｃｅ`), and every space but U+0020 — as PRECIS's
 * IdentifierClass (RFC 8264) does. Refusing keeps one byte string per name in the directory
 * and in every log line; normalising would let two different inputs act on the same account.
 *
 * Passwords are taken exactly as given (no normalisation: it would change what existing
 * hashes verify), but characters no password policy ever allows are refused here, before a
 * hash is computed: control, format (bidi overrides, zero-width), lone surrogates (which
 * have no UTF-8 form, so `\uD800` and `\uDC00` would hash alike), private-use, unassigned,
 * and spaces of every kind but U+0020 (which NIST SP 800-63B-4 asks be accepted; a policy
 * without it refuses it as outside its character set).
 */
import * as z from 'zod/mini';
import { NEVER_ALLOWED } from '#core/policy.ts';

/** Characters never part of a name; U+0020 is the one space a name may contain. */
const NOT_IN_A_NAME =
  /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/u;

/** Whether `text` is its own NFKC form. Only well-formed text gets here (no lone surrogates). */
function isNfkc(text: string): boolean {
  return text.normalize('NFKC') === text;
}

/**
 * A password field: 1 to `maxLength` UTF-16 units (the cap keeps argon2id's input small; the
 * realm's policy sets the real bounds), none of them a character no policy allows.
 */
export function passwordText(maxLength: number) {
  return z.string().check(
    z.minLength(1),
    z.maxLength(maxLength),
    z.refine(
      (value) => !NEVER_ALLOWED.test(value),
      'may not contain special spaces, control, format (bidi), unassigned characters or lone surrogates',
    ),
    // The space is a character of a password, but a password of spaces alone is never one.
    z.refine((value) => value === '' || value.trim() !== '', 'may not be only spaces'),
  );
}

/**
 * A name (username, tenancy name or OCID): 1 to `maxLength` characters of visible text, no
 * space at either end, in NFKC form.
 */
export function nameText(maxLength: number) {
  return z.string().check(
    z.minLength(1),
    z.maxLength(maxLength),
    z.refine(
      (value) => !NOT_IN_A_NAME.test(value),
      'may not contain control, format (bidi), unassigned characters, lone surrogates or special spaces',
    ),
    z.refine((value) => value.trim() === value, 'may not start or end with a space'),
    z.refine(
      (value) => NOT_IN_A_NAME.test(value) || isNfkc(value),
      'must be in Unicode normalisation form NFKC (no decomposed accents or full-width look-alikes)',
    ),
  );
}

/** What an id (user, realm, instance) may be: safe in a table key, a secret name and a log line. */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Whether `value` is an id of at most `maxLength` characters (`idText`'s rule, without zod). */
export function isIdText(value: string, maxLength: number): boolean {
  return value.length <= maxLength && ID_PATTERN.test(value);
}

/**
 * An id: 1 to `maxLength` ASCII letters, digits, `.`, `_` and `-`, starting with a letter or
 * a digit (so never `.` or `..`; OCIDs hold `..` inside, which is allowed).
 */
export function idText(maxLength: number) {
  return z
    .string()
    .check(
      z.minLength(1),
      z.maxLength(maxLength),
      z.regex(ID_PATTERN, 'may contain only letters, digits, ".", "_" and "-"'),
    );
}
