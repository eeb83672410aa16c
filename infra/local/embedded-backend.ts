/**
 * The embedded backend behind `npm start` and the integration tests: dynalite and the local
 * vault behind one AWS-compatible endpoint, the table created, and SDK client options that
 * point at it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClientOptions } from '#adapters/aws-clients.ts';
import { createDynamoDbClient } from '#adapters/aws-clients.ts';
import { LocalFileVault } from '#adapters/local-file-vault.ts';
import { settingsFromEnv } from '#adapters/settings.ts';
import { type LocalEndpoint, startLocalEndpoint } from './local-endpoint.ts';
import { ensureTable } from './table.ts';

/** Credentials the local endpoint accepts (it checks none); never real ones. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
export const LOCAL_REGION = 'us-east-1';

export interface EmbeddedBackend {
  endpoint: LocalEndpoint;
  vault: LocalFileVault;
  dataDir: string;
  clients: ClientOptions;
  close(): Promise<void>;
}

/**
 * Starts the backend. With `persist`, the table lives in `dataDir/table` and survives a
 * restart; without, it is in memory (tests) and the vault goes to a fresh temp folder.
 * With `inProcess`, this process's SDK clients skip the loopback HTTP hop (`npm start`, for
 * throughput); by default they go over real HTTP, as tests should.
 */
export async function startEmbeddedBackend(
  options: {
    dataDir?: string;
    port?: number;
    persist?: boolean;
    /** Default: REKEY_TABLE (or `rekey`), the table the handlers' settings name. */
    tableName?: string;
    inProcess?: boolean;
  } = {},
): Promise<EmbeddedBackend> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'rekey-'));
  const vault = new LocalFileVault(join(dataDir, 'vault'));
  const endpoint = await startLocalEndpoint({
    port: options.port ?? 0,
    tableDir: options.persist ? join(dataDir, 'table') : undefined,
    vault,
  });
  // Other processes (the CLI) always use the URL.
  const clients: ClientOptions = {
    ...localClientOptions(endpoint.url),
    ...(options.inProcess
      ? {
          requestHandler: endpoint.inProcessHandler as unknown as NonNullable<
            ClientOptions['requestHandler']
          >,
        }
      : {}),
  };
  const dynamoDb = createDynamoDbClient(clients);
  await ensureTable(dynamoDb, options.tableName ?? settingsFromEnv().tableName);
  dynamoDb.destroy();
  return { endpoint, vault, dataDir, clients, close: () => endpoint.close() };
}

/** SDK client options for a local endpoint. */
export function localClientOptions(url: string): ClientOptions {
  return { endpoint: url, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
}
