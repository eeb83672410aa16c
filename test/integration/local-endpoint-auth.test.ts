/**
 * The embedded AWS-compatible endpoint serves only requests addressed to 127.0.0.1:PORT or
 * localhost:PORT and signed (SigV4) with the credentials its data folder keeps; any other
 * request is a 403 in the AWS JSON shape and changes nothing. The handlers (in process and
 * over HTTP), the SDK and REKEY_BACKEND=aws keep working with those credentials.
 */
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDynamoDbClient, createSecretsManagerClient } from '#adapters/aws-clients.ts';
import { createRuntime } from '#adapters/runtime.ts';
import { DEMO_REALM_ID, seedDemo } from '#infra/local/demo.ts';
import { mintToken } from '#infra/local/dev-tokens.ts';
import { type EmbeddedBackend, startEmbeddedBackend } from '#infra/local/embedded-backend.ts';
import { readLocalCredentials } from '#infra/local/endpoint-credentials.ts';
import { startLocalApi } from '#infra/local/local-api.ts';

const VALUE = '{"password":"Endpoint-Canary-9931"}';
const OTHER = {
  accessKeyId: 'RKLOCALOTHERKEY1234',
  secretAccessKey: 'not-the-data-folder-secret-000000000000',
};
const LOCAL_TEST = { accessKeyId: 'local', secretAccessKey: 'local' };

let backend: EmbeddedBackend;
let port: number;
let secretArn: string;

beforeAll(async () => {
  backend = await startEmbeddedBackend();
  port = Number(new URL(backend.endpoint.url).port);
});
afterAll(async () => {
  await backend.close();
  rmSync(backend.dataDir, { recursive: true, force: true });
});
afterEach(() => {
  vi.unstubAllEnvs();
});

/** A fresh secret holding VALUE, created through the vault itself (no endpoint involved). */
async function plantSecret(name: string): Promise<string> {
  const { secretId } = await backend.vault.create({ name, value: VALUE, description: 'd', tags: {} });
  return secretId;
}

interface Raw {
  status: number;
  body: string;
  json: { __type?: string; message?: string };
}

/** One HTTP request to the endpoint exactly as given (node:http lets a test set any Host). */
function raw(headers: Record<string, string>, body: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/',
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json = {};
          try {
            json = JSON.parse(text);
          } catch {}
          resolve({ status: res.statusCode ?? 0, body: text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Headers of a SigV4-signed Secrets Manager request, signed by the SDK's own signer. */
async function signed(
  target: string,
  body: string,
  options: {
    credentials?: { accessKeyId: string; secretAccessKey: string };
    host?: string;
    date?: Date;
    extraHeaders?: Record<string, string>;
    /** false: no x-amz-content-sha256 header, as botocore (the AWS CLI) signs. */
    applyChecksum?: boolean;
    /** Headers sent but left out of the signature. */
    unsigned?: string[];
  } = {},
): Promise<Record<string, string>> {
  const host = options.host ?? `127.0.0.1:${port}`;
  const signer = new SignatureV4({
    credentials: options.credentials ?? backend.credentials,
    region: 'us-east-1',
    service: 'secretsmanager',
    sha256: Sha256,
    applyChecksum: options.applyChecksum ?? true,
  });
  const request = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: host.split(':')[0] ?? host,
      path: '/',
      headers: {
        host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': target,
        ...options.extraHeaders,
      },
      body,
    },
    {
      ...(options.date ? { signingDate: options.date } : {}),
      ...(options.unsigned ? { unsignableHeaders: new Set(options.unsigned) } : {}),
    },
  );
  return request.headers;
}

/** SHA-256 / HMAC-SHA-256 in the shape the signer takes. */
class Sha256 {
  private readonly hash;
  constructor(secret?: SourceData) {
    this.hash =
      secret === undefined
        ? createHash('sha256')
        : createHmac('sha256', typeof secret === 'string' ? secret : new Uint8Array(secret as ArrayBuffer));
  }
  update(data: Uint8Array) {
    this.hash.update(data);
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
  reset() {}
}

const getValue = (secretId: string) => JSON.stringify({ SecretId: secretId });

describe('the embedded endpoint refuses', () => {
  beforeAll(async () => {
    secretArn = await plantSecret('rekey/ddm/acme/i-1/admin/refusals');
  });

  it('the review’s reproduction: an unsigned GetSecretValue with a foreign Host', async () => {
    const res = await raw(
      { host: `attacker.example:${port}`, 'x-amz-target': 'secretsmanager.GetSecretValue' },
      getValue(secretArn),
    );
    expect(res.status).toBe(403);
    expect(res.json.__type).toBe('AccessDeniedException');
    expect(res.body).not.toContain('Endpoint-Canary');
    expect(res.body).not.toContain('attacker');
  });

  it('an unsigned request addressed to it, reading nothing and deleting nothing', async () => {
    const read = await raw(
      { host: `127.0.0.1:${port}`, 'x-amz-target': 'secretsmanager.GetSecretValue' },
      getValue(secretArn),
    );
    expect(read.status).toBe(403);
    expect(read.json.__type).toBe('MissingAuthenticationTokenException');
    expect(read.body).not.toContain('Endpoint-Canary');
    const list = await raw({ host: `localhost:${port}`, 'x-amz-target': 'secretsmanager.ListSecrets' }, '{}');
    expect(list.status).toBe(403);
    expect(list.body).not.toContain('refusals');
    const del = await raw(
      { host: `127.0.0.1:${port}`, 'x-amz-target': 'secretsmanager.DeleteSecret' },
      JSON.stringify({ SecretId: secretArn, ForceDeleteWithoutRecovery: true }),
    );
    expect(del.status).toBe(403);
    expect(await backend.vault.read(secretArn)).toBe(VALUE);
  });

  it('an unsigned DynamoDB request, writing no item', async () => {
    const res = await raw(
      {
        host: `127.0.0.1:${port}`,
        'x-amz-target': 'DynamoDB_20120810.PutItem',
        'content-type': 'application/x-amz-json-1.0',
      },
      JSON.stringify({ TableName: 'rekey', Item: { pk: { S: 'planted' }, sk: { S: 'unsigned' } } }),
    );
    expect(res.status).toBe(403);
    const item = await createDynamoDbClient(backend.clients).send(
      new GetItemCommand({ TableName: 'rekey', Key: { pk: { S: 'planted' }, sk: { S: 'unsigned' } } }),
    );
    expect(item.Item).toBeUndefined();
  });

  it('a request signed with other credentials (the SDK’s, DynamoDB and Secrets Manager), or with the old fixed local/local', async () => {
    for (const credentials of [OTHER, LOCAL_TEST]) {
      const clients = { ...backend.clients, credentials };
      const secrets = createSecretsManagerClient(clients);
      await expect(secrets.send(new GetSecretValueCommand({ SecretId: secretArn }))).rejects.toMatchObject({
        name: 'UnrecognizedClientException',
        $metadata: { httpStatusCode: 403 },
      });
      const table = createDynamoDbClient(clients);
      await expect(
        table.send(
          new PutItemCommand({
            TableName: 'rekey',
            Item: { pk: { S: 'planted' }, sk: { S: credentials.accessKeyId } },
          }),
        ),
      ).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
    }
    const item = await createDynamoDbClient(backend.clients).send(
      new GetItemCommand({ TableName: 'rekey', Key: { pk: { S: 'planted' }, sk: { S: OTHER.accessKeyId } } }),
    );
    expect(item.Item).toBeUndefined();
  });

  it('the right access key id with a wrong secret', async () => {
    const headers = await signed('secretsmanager.GetSecretValue', getValue(secretArn), {
      credentials: { accessKeyId: backend.credentials.accessKeyId, secretAccessKey: OTHER.secretAccessKey },
    });
    const res = await raw(headers, getValue(secretArn));
    expect(res.status).toBe(403);
    expect(res.json.__type).toBe('InvalidSignatureException');
    expect(res.body).not.toContain('Endpoint-Canary');
  });

  it('a signed request whose body was changed after signing (also when it signed x-amz-content-sha256)', async () => {
    const victim = await plantSecret('rekey/ddm/acme/i-1/admin/victim');
    const decoy = JSON.stringify({ SecretId: 'rekey/never-there', ForceDeleteWithoutRecovery: true });
    const tampered = JSON.stringify({ SecretId: victim, ForceDeleteWithoutRecovery: true });
    for (const extraHeaders of [
      {},
      { 'x-amz-content-sha256': createHash('sha256').update(decoy).digest('hex') },
    ]) {
      const headers = await signed('secretsmanager.DeleteSecret', decoy, { extraHeaders });
      // The control: the untouched request is served (and finds nothing to delete).
      const control = await raw(headers, decoy);
      expect(control.json.__type).toBe('ResourceNotFoundException');
      const res = await raw(headers, tampered);
      expect(res.status).toBe(403);
      expect(res.json.__type).toBe('InvalidSignatureException');
    }
    expect(await backend.vault.read(victim)).toBe(VALUE);
  });

  it('a validly signed request with a foreign Host (DNS rebinding), where the same request to 127.0.0.1 is served', async () => {
    const body = getValue(secretArn);
    const foreign = await raw(
      await signed('secretsmanager.GetSecretValue', body, { host: `rebound.example:${port}` }),
      body,
    );
    expect(foreign.status).toBe(403);
    expect(foreign.json.__type).toBe('AccessDeniedException');
    expect(foreign.body).not.toContain('Endpoint-Canary');
    const otherPort = await raw(
      await signed('secretsmanager.GetSecretValue', body, { host: `127.0.0.1:${port + 1}` }),
      body,
    );
    expect(otherPort.status).toBe(403);
    const served = await raw(
      await signed('secretsmanager.GetSecretValue', body, { host: `localhost:${port}` }),
      body,
    );
    expect(served.status).toBe(200);
    expect(JSON.parse(served.body).SecretString).toBe(VALUE);
  });

  it('a request signed more than 5 minutes ago (or ahead)', async () => {
    const body = getValue(secretArn);
    for (const offset of [-6 * 60_000, 6 * 60_000]) {
      const headers = await signed('secretsmanager.GetSecretValue', body, {
        date: new Date(Date.now() + offset),
      });
      const res = await raw(headers, body);
      expect(res.status).toBe(403);
      expect(res.json.__type).toBe('InvalidSignatureException');
    }
    const recent = await raw(
      await signed('secretsmanager.GetSecretValue', body, { date: new Date(Date.now() - 60_000) }),
      body,
    );
    expect(recent.status).toBe(200);
  });

  it('a signature that does not cover the host', async () => {
    const body = getValue(secretArn);
    const headers = await signed('secretsmanager.GetSecretValue', body);
    // Re-signed by hand without host in SignedHeaders would need the secret; a header list
    // edited after signing is refused before the signature is even compared.
    headers.authorization = String(headers.authorization).replace(
      'SignedHeaders=content-type;host;',
      'SignedHeaders=content-type;',
    );
    const res = await raw(headers, body);
    expect(res.status).toBe(403);
    expect(res.json.__type).toBe('InvalidSignatureException');
  });

  it('a signature that leaves the operation (x-amz-target) out, replayed as another operation', async () => {
    // A DescribeSecret signed without its target, re-sent as GetSecretValue (the red-team
    // review read a secret's value this way): the operation must be under the signature.
    const body = getValue(secretArn);
    const headers = await signed('secretsmanager.DescribeSecret', body, { unsigned: ['x-amz-target'] });
    expect(String(headers.authorization)).not.toContain('x-amz-target');
    const res = await raw({ ...headers, 'x-amz-target': 'secretsmanager.GetSecretValue' }, body);
    expect(res.status).toBe(403);
    expect(res.json.__type).toBe('InvalidSignatureException');
    expect(res.body).not.toContain(VALUE);
  });

  it('in process as over HTTP: the handlers’ in-process transport goes through the same checks', async () => {
    const inProcess = await startEmbeddedBackend({ inProcess: true });
    try {
      expect(inProcess.clients.requestHandler).toBeDefined();
      const arn = (
        await inProcess.vault.create({ name: 'in-process', value: VALUE, description: 'd', tags: {} })
      ).secretId;
      const good = new SecretsManagerClient({ ...inProcess.clients });
      expect((await good.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString).toBe(VALUE);
      const bad = new SecretsManagerClient({ ...inProcess.clients, credentials: OTHER });
      await expect(bad.send(new GetSecretValueCommand({ SecretId: arn }))).rejects.toMatchObject({
        name: 'UnrecognizedClientException',
      });
    } finally {
      await inProcess.close();
      rmSync(inProcess.dataDir, { recursive: true, force: true });
    }
  });
});

describe('the embedded endpoint’s credentials', () => {
  it('are generated per data folder, kept 0600 in it, kept across restarts, and are not the old fixed ones', async () => {
    const path = join(backend.dataDir, 'credentials');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readLocalCredentials(backend.dataDir)).toEqual(backend.credentials);
    expect(backend.credentials.accessKeyId).toMatch(/^RKLOCAL[A-Z2-7]{13}$/);
    expect(backend.credentials.secretAccessKey.length).toBeGreaterThanOrEqual(40);
    expect(readFileSync(path, 'utf8')).toContain('[default]');

    const other = await startEmbeddedBackend();
    const again = await startEmbeddedBackend({ dataDir: backend.dataDir });
    try {
      expect(other.credentials).not.toEqual(backend.credentials);
      expect(again.credentials).toEqual(backend.credentials);
    } finally {
      await other.close();
      await again.close();
      rmSync(other.dataDir, { recursive: true, force: true });
    }
  });

  it('let a request signed as botocore (the AWS CLI) signs, without x-amz-content-sha256, be served (not once its body changed)', async () => {
    const body = getValue(secretArn);
    const headers = await signed('secretsmanager.GetSecretValue', body, { applyChecksum: false });
    expect(Object.keys(headers)).not.toContain('x-amz-content-sha256');
    const served = await raw(headers, body);
    expect(served.status).toBe(200);
    expect(JSON.parse(served.body).SecretString).toBe(VALUE);
    const tampered = await raw(headers, getValue('rekey/other'));
    expect(tampered.status).toBe(403);
  });

  it('let the SDK use DynamoDB and Secrets Manager over HTTP', async () => {
    expect(backend.clients.requestHandler).toBeUndefined();
    const table = createDynamoDbClient(backend.clients);
    await table.send(
      new PutItemCommand({ TableName: 'rekey', Item: { pk: { S: 'sdk' }, sk: { S: 'works' } } }),
    );
    const item = await table.send(
      new GetItemCommand({ TableName: 'rekey', Key: { pk: { S: 'sdk' }, sk: { S: 'works' } } }),
    );
    expect(item.Item).toEqual({ pk: { S: 'sdk' }, sk: { S: 'works' } });
    const arn = await plantSecret('rekey/temp/sdk/works');
    const secrets = createSecretsManagerClient(backend.clients);
    expect((await secrets.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString).toBe(VALUE);
  });

  it('let REKEY_BACKEND=aws (the standard SDK environment) serve the API over the embedded endpoint', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL', backend.endpoint.url);
    vi.stubEnv('AWS_ACCESS_KEY_ID', backend.credentials.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', backend.credentials.secretAccessKey);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    await seedDemo(createRuntime('seed', { clients: backend.clients }).deps.directory);
    const dataDir = mkdtempSync(join(tmpdir(), 'rekey-aws-mode-'));
    const api = await startLocalApi({ backend: 'aws', dataDir });
    try {
      const token = await mintToken(api.devKey, { realmId: DEMO_REALM_ID });
      const res = await fetch(`${api.gateway.url}/20160918/users/u-alice/uiPassword`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      const { passwordSecretId } = (await res.json()) as { passwordSecretId: string };
      expect(backend.vault.describe(passwordSecretId).name).toMatch(/^rekey\/temp\/demo\/u-alice\//);
    } finally {
      await api.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
