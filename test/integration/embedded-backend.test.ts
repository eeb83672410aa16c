/**
 * The embedded backend creates the table the handlers will use: REKEY_TABLE, like the
 * handlers' own settings, so `REKEY_TABLE=x npm start` serves requests instead of failing.
 */
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDynamoDbClient } from '#adapters/aws-clients.ts';
import { startEmbeddedBackend } from '#infra/local/embedded-backend.ts';

afterEach(() => {
  vi.unstubAllEnvs();
});

async function tablesOf(env: string | undefined): Promise<string[]> {
  if (env !== undefined) vi.stubEnv('REKEY_TABLE', env);
  const backend = await startEmbeddedBackend();
  try {
    const client = createDynamoDbClient(backend.clients);
    const out = await client.send(new ListTablesCommand({}));
    client.destroy();
    return out.TableNames ?? [];
  } finally {
    await backend.close();
  }
}

describe('the embedded backend', () => {
  it('creates the table REKEY_TABLE names', async () => {
    expect(await tablesOf('help-desk-directory')).toEqual(['help-desk-directory']);
  });

  it('creates `rekey` when REKEY_TABLE is unset or empty', async () => {
    expect(await tablesOf('')).toEqual(['rekey']);
  });
});
