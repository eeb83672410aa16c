import { createDecipheriv } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** Opens every record of the log with the vault's own key: what a thief with both files would read. */
function decryptedLog(): string[] {
  const key = readFileSync(join(dir, 'vault.key'));
  return readFileSync(join(dir, 'vault.log'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const raw = Buffer.from(line, 'base64');
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    });
}

describe('LocalFileVault', () => {
  it('keeps its files 0600 in a 0700 folder', async () => {
    const vault = new LocalFileVault(dir);
    await vault.create(secret('a'));
    expect(mode(dir)).toBe(0o700);
    expect(mode(join(dir, 'vault.key'))).toBe(0o600);
    expect(mode(join(dir, 'vault.log'))).toBe(0o600);
  });

  it('tightens the permissions of an existing folder and files when it opens them', async () => {
    await new LocalFileVault(dir).create(secret('a'));
    chmodSync(dir, 0o755);
    chmodSync(join(dir, 'vault.key'), 0o644);
    chmodSync(join(dir, 'vault.log'), 0o644);
    new LocalFileVault(dir);
    expect(mode(dir)).toBe(0o700);
    expect(mode(join(dir, 'vault.key'))).toBe(0o600);
    expect(mode(join(dir, 'vault.log'))).toBe(0o600);
  });

  it('never writes a value in plaintext to disk', async () => {
    const vault = new LocalFileVault(dir);
    const { secretId } = await vault.create(secret('rekey/temp/acme/u-1/r1'));
    await vault.putValue(secretId, `{"password":"${CANARY}-v2"}`);
    const onDisk = readFileSync(join(dir, 'vault.log'));
    expect(onDisk.includes(CANARY)).toBe(false);
    expect(onDisk.toString('utf8')).not.toContain('rekey/temp');
    // The records are there, sealed: only the key opens them.
    expect(decryptedLog().some((record) => record.includes(CANARY))).toBe(true);
  });

  it('gives back every secret after it is reopened, by ARN and by name', async () => {
    const first = new LocalFileVault(dir);
    const { secretId } = await first.create(secret('rekey/temp/acme/u-1/r1'));
    await first.putValue(secretId, '{"v":2}');

    const reopened = new LocalFileVault(dir);
    expect(await reopened.read(secretId)).toBe('{"v":2}');
    expect(await reopened.read('rekey/temp/acme/u-1/r1')).toBe('{"v":2}');
    expect(reopened.describe(secretId).tags).toEqual({ 'rekey:user': 'u-1' });
  });

  it('answers SecretNotFoundError for a secret that never existed or was deleted', async () => {
    const vault = new LocalFileVault(dir);
    const { secretId } = await vault.create(secret('a'));
    await vault.delete(secretId);
    await expect(vault.read(secretId)).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(vault.read('never')).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(vault.delete(secretId)).resolves.toBeUndefined();
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

  it('removes a deleted value from disk once the vault is reopened (compaction)', async () => {
    const vault = new LocalFileVault(dir);
    const { secretId } = await vault.create(secret('gone'));
    await vault.create(secret('kept', '{"keep":true}'));
    await vault.delete(secretId);
    // Until compaction the append-only log still holds the sealed record.
    expect(decryptedLog().some((record) => record.includes(CANARY))).toBe(true);

    const reopened = new LocalFileVault(dir);

    const records = decryptedLog();
    expect(records.some((record) => record.includes(CANARY))).toBe(false);
    expect(records).toHaveLength(1);
    expect(await reopened.read('kept')).toBe('{"keep":true}');
    await expect(reopened.read(secretId)).rejects.toBeInstanceOf(SecretNotFoundError);
  });

  it('refuses to open a log that was tampered with', async () => {
    await new LocalFileVault(dir).create(secret('a'));
    const path = join(dir, 'vault.log');
    const raw = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
    raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 0x01;
    writeFileSync(path, `${raw.toString('base64')}\n`);
    expect(() => new LocalFileVault(dir)).toThrow();
  });

  it('refuses to open a log under another key', async () => {
    await new LocalFileVault(dir).create(secret('a'));
    writeFileSync(join(dir, 'vault.key'), Buffer.alloc(32, 7));
    expect(() => new LocalFileVault(dir)).toThrow();
  });
});
