/**
 * The common-password blocklist, read from the artifact scripts/build-blocklist.mjs writes at
 * build time: sorted 64-bit hashes (SHA-256's first 8 bytes) of each entry's NFKC, lower-case
 * form, with an index of 4096 buckets by the hashes' top 12 bits. The first check opens the
 * file and reads the 16 KB index; each lookup then reads its one bucket (~100 hashes, under a
 * kilobyte) with a positioned read and binary-searches it. The 3 MB list is never read whole,
 * parsed or turned into a set, and a function that never checks a password never opens it
 * (the CDK bundling ships it only to those that do). With ~415 000 hashes in a 2^64 space, a
 * password not on the list matches an entry with a probability of about 2^-45 per check: no
 * false positive in practice.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { UnavailableError } from '#core/errors.ts';
import type { PasswordBlocklist } from '#core/policy.ts';

/** The artifact's file name: beside the bundle in a deployed function, in .build/ in a checkout. */
export const BLOCKLIST_FILE_NAME = 'common-passwords.bin';
const MAGIC = 'RKBL\x02\0\0\0';
const BUCKET_BITS = 12;
const BUCKETS = 2 ** BUCKET_BITS;
const INDEX_OFFSET = 16;
const INDEX_BYTES = (BUCKETS + 1) * 4;
/** Where the hashes start: after the header and the index, on an 8-byte boundary. */
const DATA_OFFSET = INDEX_OFFSET + Math.ceil(INDEX_BYTES / 8) * 8;

/** Where the artifact may be: an explicit path, beside this module (a bundle), the checkout's .build/. */
export function blocklistCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  // import.meta.dirname, not fileURLToPath: node:url would be one more built-in at every cold start.
  const here = import.meta.dirname;
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

/**
 * Opens an artifact and checks its header, size and index; throws on anything that is not
 * one. The file stays open for the container's life: one descriptor, read by position.
 */
export function openBlocklist(file: string): PasswordBlocklist {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(DATA_OFFSET);
    const got = readSync(fd, head, 0, DATA_OFFSET, 0);
    if (got < DATA_OFFSET || head.toString('latin1', 0, 8) !== MAGIC) {
      throw new Error('not a rekey blocklist artifact');
    }
    const count = Number(head.readBigUInt64LE(8));
    if (fstatSync(fd).size !== DATA_OFFSET + count * 8)
      throw new Error('blocklist artifact has the wrong size');
    // Typed-array views read the little-endian file as is (x86 and Lambda's arm64 are
    // little-endian); reading the index one readUInt32LE at a time cost ~15 ms at a cold start.
    if (endianness() !== 'LE') throw new Error('the blocklist reader needs a little-endian machine');
    // Buffer.alloc never hands out a slice of the shared pool: byteOffset is 0, so the views are aligned.
    const index = new Uint32Array(head.buffer, head.byteOffset + INDEX_OFFSET, BUCKETS + 1);
    let largest = 0;
    for (let b = 1; b <= BUCKETS; b++) {
      const size = (index[b] as number) - (index[b - 1] as number);
      if (size < 0) throw new Error('blocklist artifact has a broken index');
      if (size > largest) largest = size;
    }
    if (index[0] !== 0 || index[BUCKETS] !== count) throw new Error('blocklist artifact has a broken index');
    const bucket = Buffer.alloc(Math.max(1, largest) * 8);
    const hashes = new BigUint64Array(bucket.buffer, bucket.byteOffset, Math.max(1, largest));
    return {
      size: count,
      has(password) {
        const hash = hash64(blocklistKey(password));
        const b = Number(hash >> BigInt(64 - BUCKET_BITS));
        const start = index[b] as number;
        const n = (index[b + 1] as number) - start;
        if (n === 0) return false;
        readSync(fd, bucket, 0, n * 8, DATA_OFFSET + start * 8);
        let lo = 0;
        let hi = n - 1;
        while (lo <= hi) {
          const mid = (lo + hi) >>> 1;
          const at = hashes[mid] as bigint;
          if (at === hash) return true;
          if (at < hash) lo = mid + 1;
          else hi = mid - 1;
        }
        return false;
      },
    };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/**
 * The blocklist from the artifact, opened on first use. A missing artifact fails closed: the
 * check answers 503 (UnavailableError) rather than let a password through unchecked.
 */
export function fileBlocklist(candidates: () => string[] = () => blocklistCandidates()): PasswordBlocklist {
  let opened: PasswordBlocklist | undefined;
  const open = (): PasswordBlocklist => {
    if (opened) return opened;
    const file = candidates().find((path) => existsSync(path));
    if (!file) {
      throw new UnavailableError('The common-password list is not available; no password can be checked.');
    }
    opened = openBlocklist(file);
    return opened;
  };
  return {
    get size() {
      return open().size;
    },
    has: (password) => open().has(password),
  };
}

/** The one list of a container (a function, the local API): opened the first time a chosen password is checked. */
export const CONTAINER_BLOCKLIST: PasswordBlocklist = fileBlocklist();
