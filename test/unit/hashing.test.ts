import { describe, expect, it } from 'vitest';
import { argon2idHasher } from '#adapters/argon2-hasher.ts';
import { ARGON2ID_PARAMETERS, DUMMY_HASH, needsRehash } from '#core/hashing.ts';

const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

describe('argon2idHasher', () => {
  it('hashes into a PHC string with m=19456, t=2, p=1 and a fresh salt every time', async () => {
    const first = await argon2idHasher.hash('Correct-Horse-1');
    const second = await argon2idHasher.hash('Correct-Horse-1');
    const match = PHC.exec(first);
    expect(match?.slice(1, 4)).toEqual(['19456', '2', '1']);
    expect(first).not.toBe(second);
    expect(first).not.toContain('Correct-Horse-1');
  });

  it('verifies the password it hashed, and nothing else', async () => {
    const phc = await argon2idHasher.hash('Correct-Horse-1');
    expect(await argon2idHasher.verify(phc, 'Correct-Horse-1')).toBe(true);
    expect(await argon2idHasher.verify(phc, 'correct-Horse-1')).toBe(false);
    expect(await argon2idHasher.verify(phc, 'Correct-Horse-1 ')).toBe(false);
    expect(await argon2idHasher.verify(phc, '')).toBe(false);
  });

  it('verifies Unicode passwords byte for byte', async () => {
    const phc = await argon2idHasher.hash('pässwörd-日本語-😀');
    expect(await argon2idHasher.verify(phc, 'pässwörd-日本語-😀')).toBe(true);
    // The same letters, decomposed (a + combining diaeresis): a different password.
    expect(await argon2idHasher.verify(phc, 'pa\u0308sswo\u0308rd-日本語-😀')).toBe(false);
  });

  it.each([
    ['an empty string', ''],
    ['garbage', 'not a hash'],
    ['a truncated PHC string', '$argon2id$v=19$m=19456,t=2,p=1$HLAaGaLs7LI0mOhjvJ7PHg'],
    ['a PHC string with a broken salt', '$argon2id$v=19$m=19456,t=2,p=1$***$I6qmXQOI4JfdSOFaq7QS9pBe'],
    ['another algorithm', '$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234'],
  ])('verifies false, without throwing, against %s', async (_what, phc) => {
    await expect(argon2idHasher.verify(phc, 'anything')).resolves.toBe(false);
  });
});

describe('DUMMY_HASH', () => {
  it('has exactly the parameters of every real hash, so verifying against it costs the same', async () => {
    const real = PHC.exec(await argon2idHasher.hash('x'))?.slice(1, 4);
    // Both parsed (two misses would compare equal too).
    expect(real).toHaveLength(3);
    expect(PHC.exec(DUMMY_HASH)?.slice(1, 4)).toEqual(real);
    expect(needsRehash(DUMMY_HASH)).toBe(false);
  });

  it('is a well-formed hash that no ordinary password verifies against', async () => {
    for (const guess of ['', 'password', 'Password1', 'dummy']) {
      expect(await argon2idHasher.verify(DUMMY_HASH, guess)).toBe(false);
    }
  });
});

describe('needsRehash', () => {
  const { memoryCost: m, timeCost: t, parallelism: p } = ARGON2ID_PARAMETERS;
  const salt = 'HLAaGaLs7LI0mOhjvJ7PHg$I6qmXQOI4JfdSOFaq7QS9pBe/fEiZr+kilPMSN0ANpw';

  it('is false for a hash with today’s parameters or stronger ones', async () => {
    expect(needsRehash(await argon2idHasher.hash('x'))).toBe(false);
    expect(needsRehash(`$argon2id$v=19$m=${m * 2},t=${t + 1},p=${p}$${salt}`)).toBe(false);
  });

  it.each([
    ['less memory', `$argon2id$v=19$m=${m - 1},t=${t},p=${p}$${salt}`],
    ['fewer passes', `$argon2id$v=19$m=${m},t=${t - 1},p=${p}$${salt}`],
    ['no lane', `$argon2id$v=19$m=${m},t=${t},p=0$${salt}`],
    ['another argon2 variant', `$argon2i$v=19$m=${m},t=${t},p=${p}$${salt}`],
    ['an older argon2 version', `$argon2id$v=16$m=${m},t=${t},p=${p}$${salt}`],
    ['something that is not a PHC string', 'plain'],
  ])('is true for a hash with %s', (_what, phc) => {
    expect(needsRehash(phc)).toBe(true);
  });
});
