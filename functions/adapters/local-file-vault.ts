/**
 * The local vault behind `npm start`: secrets in one append-only file in the data folder,
 * each record sealed with AES-256-GCM under a key kept beside it. The folder is 0700 and the
 * files 0600, so only their owner can read them. It answers the SecretVault port directly
 * and, through the local endpoint, the Secrets Manager API the CLI and handlers use.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomInt } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { SecretNotFoundError } from '#core/errors.ts';
import type { NewSecret, SecretVault } from '#core/ports.ts';

export interface StoredSecret {
  arn: string;
  name: string;
  value: string;
  versionId: string;
  description: string;
  kmsKeyId: string | undefined;
  tags: Record<string, string>;
  createdAt: string;
  changedAt: string;
}

type LogEntry = { op: 'put'; secret: StoredSecret } | { op: 'delete'; arn: string };

export class SecretExistsError extends Error {
  constructor(name: string) {
    super(`a secret named ${name} already exists`);
    this.name = 'SecretExistsError';
  }
}

const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export class LocalFileVault implements SecretVault {
  private readonly secrets = new Map<string, StoredSecret>();
  private readonly arnByName = new Map<string, string>();
  private readonly key: Buffer;
  private readonly logPath: string;

  /** Opens (or creates) the vault in `dataDir`, replaying and compacting its log. */
  constructor(
    dataDir: string,
    private readonly arnPrefix = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:',
  ) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    chmodSync(dataDir, 0o700);
    const keyPath = join(dataDir, 'vault.key');
    if (!existsSync(keyPath)) writeFileSync(keyPath, randomBytes(32), { mode: 0o600 });
    chmodSync(keyPath, 0o600);
    this.key = readFileSync(keyPath);
    this.logPath = join(dataDir, 'vault.log');
    this.replay();
    this.compact();
  }

  async create(secret: NewSecret & { kmsKeyId?: string | undefined }): Promise<{ secretId: string }> {
    return { secretId: this.createSecret(secret).arn };
  }

  async read(secretId: string): Promise<string> {
    return this.describe(secretId).value;
  }

  async putValue(secretId: string, value: string): Promise<void> {
    this.putSecretValue(secretId, value);
  }

  async delete(secretId: string): Promise<void> {
    this.remove(secretId);
  }

  /** Creates a secret; a taken name is a SecretExistsError, as in Secrets Manager. */
  createSecret(secret: NewSecret & { kmsKeyId?: string | undefined }): StoredSecret {
    if (this.find(secret.name)) throw new SecretExistsError(secret.name);
    const now = new Date().toISOString();
    const stored: StoredSecret = {
      arn: `${this.arnPrefix}${secret.name}-${randomSuffix()}`,
      name: secret.name,
      value: secret.value,
      versionId: randomBytes(16).toString('hex'),
      description: secret.description,
      kmsKeyId: secret.kmsKeyId,
      tags: { ...secret.tags },
      createdAt: now,
      changedAt: now,
    };
    this.write({ op: 'put', secret: stored });
    return stored;
  }

  /** The secret with this ARN or name; throws SecretNotFoundError. */
  describe(secretId: string): StoredSecret {
    const secret = this.find(secretId);
    if (!secret) throw new SecretNotFoundError(secretId);
    return secret;
  }

  putSecretValue(secretId: string, value: string): StoredSecret {
    const secret = this.describe(secretId);
    const next = {
      ...secret,
      value,
      versionId: randomBytes(16).toString('hex'),
      changedAt: new Date().toISOString(),
    };
    this.write({ op: 'put', secret: next });
    return next;
  }

  /** Deletes at once; returns the deleted secret, or undefined if there was none. */
  remove(secretId: string): StoredSecret | undefined {
    const secret = this.find(secretId);
    if (secret) this.write({ op: 'delete', arn: secret.arn });
    return secret;
  }

  /** Secrets whose name starts with `prefix`, by name. */
  list(prefix = ''): StoredSecret[] {
    return [...this.secrets.values()]
      .filter((s) => s.name.startsWith(prefix))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  private find(idOrName: string): StoredSecret | undefined {
    return this.secrets.get(idOrName) ?? this.secrets.get(this.arnByName.get(idOrName) ?? '');
  }

  private write(entry: LogEntry): void {
    appendFileSync(this.logPath, `${this.seal(entry)}\n`, { mode: 0o600 });
    this.apply(entry);
  }

  private apply(entry: LogEntry): void {
    if (entry.op === 'put') {
      this.secrets.set(entry.secret.arn, entry.secret);
      this.arnByName.set(entry.secret.name, entry.secret.arn);
      return;
    }
    const secret = this.secrets.get(entry.arn);
    if (secret) this.arnByName.delete(secret.name);
    this.secrets.delete(entry.arn);
  }

  private replay(): void {
    if (!existsSync(this.logPath)) return;
    chmodSync(this.logPath, 0o600);
    for (const line of readFileSync(this.logPath, 'utf8').split('\n')) {
      if (line) this.apply(this.open(line));
    }
  }

  /** Rewrites the log with only the live secrets, so deleted values do not linger on disk. */
  private compact(): void {
    const tmp = `${this.logPath}.tmp`;
    const lines = [...this.secrets.values()].map((secret) => `${this.seal({ op: 'put', secret })}\n`);
    writeFileSync(tmp, lines.join(''), { mode: 0o600 });
    renameSync(tmp, this.logPath);
  }

  private seal(entry: LogEntry): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(entry), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  private open(line: string): LogEntry {
    const raw = Buffer.from(line, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    return JSON.parse(text) as LogEntry;
  }
}

function randomSuffix(): string {
  return Array.from({ length: 6 }, () => ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]).join('');
}
