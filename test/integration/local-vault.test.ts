import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalFileVault, SecretExistsError } from '#adapters/local-file-vault.ts';
import { SecretNotFoundError } from '#core/errors.ts';

const VALUE = '{"password":"Plain-Text-Canary-4711"}';
const CANARY = 'Plain-Text-Canary-4711';

let root: string;
let dir: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'rekey-vault-test-'));
  dir = join(root, 'vault');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const mode = (path: string) => statSync(path).mode & 0o777;
const secret = (name: string, value = VALUE) => ({
  name,
  value,
  description: 'd',
  tags: { 'rekey:user': 'u-1' },
});

/** Every file under `folder`, recursively. */
function filesUnder(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

/** Every folder under `folder`, itself included. */
function foldersUnder(folder: string): string[] {
  return [
    folder,
    ...readdirSync(folder, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .flatMap((entry) => foldersUnder(join(folder, entry.name))),
  ];
}

function tryOpen(key: Buffer, text: string, aad: string | undefined): string | undefined {
  try {
    const raw = Buffer.from(text, 'base64');
    if (raw.length < 29) return undefined;
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    if (aad !== undefined) decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

/**
 * What a thief holding the whole folder reads: every file as it is, and every sealed
 * AES-256-GCM record in it (a whole file or one of its lines, with or without the file's name
 * as associated data) opened with `vault.key`. The layout of the vault does not matter.
 */
function whatAThiefReads(): string[] {
  const key = readFileSync(join(dir, 'vault.key'));
  const found: string[] = [];
  for (const path of filesUnder(dir)) {
    const text = readFileSync(path, 'latin1');
    found.push(text);
    for (const candidate of [text.trim(), ...text.split('\n')]) {
      for (const aad of [undefined, basename(path)]) {
        const opened = tryOpen(key, candidate.trim(), aad);
        if (opened !== undefined) found.push(opened);
      }
    }
  }
  return found;
}
const thiefFinds = (needle: string) => whatAThiefReads().some((text) => text.includes(needle));

/** Seals `entry` as earlier versions' `vault.log` did: one base64 line per record, no associated data. */
function legacyLine(key: Buffer, entry: unknown): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(entry), 'utf8'), cipher.final()]);
  return `${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}\n`;
}

describe('LocalFileVault', () => {
  it('keeps its files 0600 in 0700 folders', async () => {
    const vault = new LocalFileVault(dir);
    await vault.create(secret('a'));
    for (const folder of foldersUnder(dir)) expect(mode(folder), folder).toBe(0o700);
    expect(filesUnder(dir).length).toBeGreaterThanOrEqual(2);
    for (const file of filesUnder(dir)) expect(mode(file), file).toBe(0o600);
  });

  it('tightens the permissions of an existing folder and files when it opens them', async () => {
    await new LocalFileVault(dir).create(secret('a'));
    for (const folder of foldersUnder(dir)) chmodSync(folder, 0o755);
    for (const file of filesUnder(dir)) chmodSync(file, 0o644);
    new LocalFileVault(dir);
    for (const folder of foldersUnder(dir)) expect(mode(folder), folder).toBe(0o700);
    for (const file of filesUnder(dir)) expect(mode(file), file).toBe(0o600);
  });

  it('never writes a value or a name in plaintext to disk', async () => {
    const vault = new LocalFileVault(dir);
    const { secretId } = await vault.create(secret('rekey/temp/acme/u-1/r1'));
    await vault.putValue(secretId, `{"password":"${CANARY}-v2"}`);
    for (const file of filesUnder(dir)) {
      const onDisk = readFileSync(file);
      expect(onDisk.includes(CANARY)).toBe(false);
      expect(onDisk.toString('utf8')).not.toContain('rekey/temp');
      expect(file).not.toContain('rekey/temp');
    }
    // The records are there, sealed: only the key opens them.
    expect(thiefFinds(`${CANARY}-v2`)).toBe(true);
  });

  it('gives back every secret after it is reopened, by ARN and by name', async () => {
    const first = new LocalFileVault(dir);
    const { secretId } = await first.create(secret('rekey/temp/acme/u-1/r1'));
    await first.putValue(secretId, '{"v":2}');

    const reopened = new LocalFileVault(dir);
    expect(await reopened.read(secretId)).toBe('{"v":2}');
    expect(await reopened.read('rekey/temp/acme/u-1/r1')).toBe('{"v":2}');
    expect(reopened.describe(secretId).tags).toEqual({ 'rekey:user': 'u-1' });
    expect(reopened.list().map((s) => s.arn)).toEqual([secretId]);
  });

  it('answers SecretNotFoundError for a secret that never existed or was deleted', async () => {
    const vault = new LocalFileVault(dir);
    const { secretId } = await vault.create(secret('a'));
    await vault.delete(secretId);
    await expect(vault.read(secretId)).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(vault.read('never')).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(vault.delete(secretId)).resolves.toBeUndefined();
    await expect(new LocalFileVault(dir).read(secretId)).rejects.toBeInstanceOf(SecretNotFoundError);
  });

  it('refuses a second secret with a taken name, like Secrets Manager', async () => {
    const vault = new LocalFileVault(dir);
    await vault.create(secret('a'));
    await expect(vault.create(secret('a'))).rejects.toBeInstanceOf(SecretExistsError);
  });

  it('lists secrets by name prefix', async () => {
    const vault = new LocalFileVault(dir);
    await vault.create(secret('rekey/temp/b'));
    await vault.create(secret('rekey/temp/a'));
    await vault.create(secret('rekey/ddm/c'));
    expect(vault.list('rekey/temp/').map((s) => s.name)).toEqual(['rekey/temp/a', 'rekey/temp/b']);
  });

  it('leaves no ciphertext of a deleted value in any file as soon as the delete returns, the vault still open', async () => {
    const vault = new LocalFileVault(dir);
    const { secretId } = await vault.create(secret('gone'));
    await vault.create(secret('kept', '{"keep":"Kept-Value-0815"}'));
    // The control: before the delete, the thief reads both values.
    expect(thiefFinds(CANARY)).toBe(true);
    expect(thiefFinds('Kept-Value-0815')).toBe(true);

    await vault.delete(secretId);

    expect(thiefFinds(CANARY)).toBe(false);
    expect(thiefFinds('Kept-Value-0815')).toBe(true);
    expect(await vault.read('kept')).toBe('{"keep":"Kept-Value-0815"}');
  });

  it('leaves no ciphertext of a replaced value in any file as soon as the new one is written', async () => {
    const vault = new LocalFileVault(dir);
    const { secretId } = await vault.create(secret('rekey/ddm/acme/i-1/admin/r1'));
    expect(thiefFinds(CANARY)).toBe(true);

    await vault.putValue(secretId, '{"password":"Next-Admin-Value-2027"}');

    expect(thiefFinds(CANARY)).toBe(false);
    expect(thiefFinds('Next-Admin-Value-2027')).toBe(true);
  });

  it('moves the secrets of an earlier version’s vault.log into its files and deletes the log, deleted values with it', async () => {
    mkdirSync(dir, { mode: 0o700 });
    const key = randomBytes(32);
    writeFileSync(join(dir, 'vault.key'), key, { mode: 0o600 });
    const kept = {
      arn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:kept-AbCdEf',
      name: 'kept',
      value: '{"keep":"Kept-Value-0815"}',
      versionId: 'v1',
      description: 'd',
      kmsKeyId: undefined,
      tags: {},
      createdAt: '2026-01-01T00:00:00.000Z',
      changedAt: '2026-01-01T00:00:00.000Z',
    };
    const gone = { ...kept, arn: `${kept.arn}-gone`, name: 'gone', value: VALUE };
    writeFileSync(
      join(dir, 'vault.log'),
      [
        legacyLine(key, { op: 'put', secret: kept }),
        legacyLine(key, { op: 'put', secret: gone }),
        legacyLine(key, { op: 'delete', arn: gone.arn }),
      ].join(''),
      { mode: 0o644 },
    );
    expect(thiefFinds(CANARY)).toBe(true);

    const vault = new LocalFileVault(dir);

    expect(await vault.read(kept.arn)).toBe(kept.value);
    await expect(vault.read(gone.arn)).rejects.toBeInstanceOf(SecretNotFoundError);
    expect(filesUnder(dir).map((file) => basename(file))).not.toContain('vault.log');
    expect(thiefFinds(CANARY)).toBe(false);
    expect(await new LocalFileVault(dir).read('kept')).toBe(kept.value);
  });

  it('refuses to open a record that was tampered with', async () => {
    await new LocalFileVault(dir).create(secret('a'));
    const [path] = filesUnder(dir).filter((file) => !file.endsWith('vault.key'));
    if (!path) throw new Error('no record written');
    const raw = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
    raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 0x01;
    writeFileSync(path, raw.toString('base64'));
    expect(() => new LocalFileVault(dir)).toThrow();
  });

  it('refuses to open records under another key', async () => {
    await new LocalFileVault(dir).create(secret('a'));
    writeFileSync(join(dir, 'vault.key'), Buffer.alloc(32, 7));
    expect(() => new LocalFileVault(dir)).toThrow();
  });
});
