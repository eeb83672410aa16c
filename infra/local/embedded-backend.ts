/**
 * The embedded backend behind `npm start` and the integration tests: dynalite and the local
 * vault behind one AWS-compatible endpoint, the table created, and SDK client options that
 * point at it, signed with the data folder's credentials (the only ones it accepts).
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClientOptions } from '#adapters/aws-clients.ts';
import { createDynamoDbClient } from '#adapters/aws-clients.ts';
import { LocalFileVault } from '#adapters/local-file-vault.ts';
import { restrictDataFolder, restrictUmask } from './data-folder.ts';
import { type LocalCredentials, loadOrCreateLocalCredentials } from './endpoint-credentials.ts';
import { type LocalEndpoint, startLocalEndpoint } from './local-endpoint.ts';
import { localSettings } from './local-settings.ts';
import { ensureTable } from './table.ts';

export const LOCAL_REGION = 'us-east-1';

export interface EmbeddedBackend {
  endpoint: LocalEndpoint;
  vault: LocalFileVault;
  dataDir: string;
  /** The credentials the endpoint accepts (kept in `dataDir/credentials`). */
  credentials: LocalCredentials;
  clients: ClientOptions;
  close(): Promise<void>;
}

/**
 * Starts the backend. With `persist`, the table lives in `dataDir/table` and survives a
 * restart; without, it is in memory (tests) and the vault goes to a fresh temp folder.
 * The data folder and everything in it is made owner-only (0700 folders, 0600 files), also
 * when it existed before; with `persist`, so is every file this process creates from now on
 * (umask 077: dynalite's LevelDB creates its files 0666 less the umask).
 * With `inProcess`, this process's SDK clients skip the loopback HTTP hop (`npm start`, for
 * throughput); by default they go over real HTTP, as tests should.
 */
export async function startEmbeddedBackend(
  options: {
    dataDir?: string;
    port?: number;
    persist?: boolean;
    /** Default: REKEY_TABLE (or npm start's `rekey`: LOCAL_ENV), the table the handlers' settings name. */
    tableName?: string;
    inProcess?: boolean;
  } = {},
): Promise<EmbeddedBackend> {
  if (options.persist) restrictUmask();
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'rekey-'));
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  restrictDataFolder(dataDir);
  const credentials = loadOrCreateLocalCredentials(dataDir);
  const vault = new LocalFileVault(join(dataDir, 'vault'));
  const endpoint = await startLocalEndpoint({
    port: options.port ?? 0,
    tableDir: options.persist ? join(dataDir, 'table') : undefined,
    vault,
    credentials,
  });
  // Other processes (the CLI) always use the URL.
  const clients: ClientOptions = {
    ...localClientOptions(endpoint.url, credentials),
    ...(options.inProcess
      ? {
          requestHandler: endpoint.inProcessHandler as unknown as NonNullable<
            ClientOptions['requestHandler']
          >,
        }
      : {}),
  };
  const dynamoDb = createDynamoDbClient(clients);
  await ensureTable(dynamoDb, options.tableName ?? localSettings().tableName);
  dynamoDb.destroy();
  // Again, for what opening the table created (in case the umask could not be set).
  restrictDataFolder(dataDir);
  return { endpoint, vault, dataDir, credentials, clients, close: () => endpoint.close() };
}

/** SDK client options for a local endpoint and its data folder's credentials. */
export function localClientOptions(url: string, credentials: LocalCredentials): ClientOptions {
  return { endpoint: url, region: LOCAL_REGION, credentials: { ...credentials } };
}
