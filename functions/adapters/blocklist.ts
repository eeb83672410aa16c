/**
 * The common-password blocklist, read from the artifact scripts/build-blocklist.mjs writes at
 * build time: sorted 64-bit hashes (SHA-256's first 8 bytes) of each entry's NFKC, lower-case
 * form. Membership is a binary search over a BigUint64Array laid on the file's bytes: no set
 * is built, nothing is parsed, and the file is read only when a function first checks a
 * password (functions that never do never open it; the CDK bundling ships it only to those
 * that do). With ~415 000 hashes in a 2^64 space, a password not on the list collides with an
 * entry with a probability of about 2^-45 per check: no false positive in practice.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UnavailableError } from '#core/errors.ts';
import type { PasswordBlocklist } from '#core/policy.ts';

/** The artifact's file name: beside the bundle in a deployed function, in .build/ in a checkout. */
export const BLOCKLIST_FILE_NAME = 'common-passwords.bin';
const MAGIC = 'RKBL\x01\0\0\0';
const HEADER_BYTES = 16;

/** Where the artifact may be: an explicit path, beside this module (a bundle), the checkout's .build/. */
export function blocklistCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const here = fileURLToPath(new URL('.', import.meta.url));
  return [
    ...(env.REKEY_BLOCKLIST_FILE ? [env.REKEY_BLOCKLIST_FILE] : []),
    join(here, BLOCKLIST_FILE_NAME),
    join(here, '..', '..', '.build', BLOCKLIST_FILE_NAME),
  ];
}

/** The lookup key: NFKC, lower case, NFKC again. Identical to scripts/build-blocklist.mjs. */
export function blocklistKey(text: string): string {
  return text.normalize('NFKC').toLowerCase().normalize('NFKC');
}

function hash64(key: string): bigint {
  return createHash('sha256').update(key, 'utf8').digest().readBigUInt64LE(0);
}

/** The hashes of an artifact's bytes, checked; throws on anything that is not one. */
export function parseBlocklist(bytes: Buffer): BigUint64Array {
  if (bytes.length < HEADER_BYTES || bytes.toString('latin1', 0, 8) !== MAGIC) {
    throw new Error('not a rekey blocklist artifact');
  }
  const count = Number(bytes.readBigUInt64LE(8));
  if (bytes.length !== HEADER_BYTES + count * 8) throw new Error('blocklist artifact has the wrong size');
  // A view needs an 8-aligned offset and the machine's byte order (little-endian: x86, Lambda's arm64).
  if (endianness() !== 'LE') throw new Error('blocklist artifact needs a little-endian machine');
  const aligned = (bytes.byteOffset + HEADER_BYTES) % 8 === 0 ? bytes : Buffer.from(bytes);
  return new BigUint64Array(aligned.buffer, aligned.byteOffset + HEADER_BYTES, count);
}

/** Whether `sorted` holds `value`: a binary search. */
function contains(sorted: BigUint64Array, value: bigint): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = sorted[mid] as bigint;
    if (at === value) return true;
    if (at < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** A blocklist over hashes already loaded (tests and the bench build one from the artifact's bytes). */
export function blocklistOf(hashes: BigUint64Array): PasswordBlocklist {
  return {
    size: hashes.length,
    has: (password) => contains(hashes, hash64(blocklistKey(password))),
  };
}

/**
 * The blocklist from the artifact, loaded on first use. A missing artifact fails closed: the
 * check answers 503 (UnavailableError) rather than let a password through unchecked.
 */
export function fileBlocklist(candidates: () => string[] = () => blocklistCandidates()): PasswordBlocklist {
  let loaded: PasswordBlocklist | undefined;
  const load = (): PasswordBlocklist => {
    if (loaded) return loaded;
    const file = candidates().find((path) => existsSync(path));
    if (!file) {
      throw new UnavailableError('The common-password list is not available; no password can be checked.');
    }
    loaded = blocklistOf(parseBlocklist(readFileSync(file)));
    return loaded;
  };
  return {
    get size() {
      return load().size;
    },
    has: (password) => load().has(password),
  };
}
