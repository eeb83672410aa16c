/**
 * One AWS-compatible endpoint for the embedded backend, like LocalStack's: DynamoDB requests
 * go to an in-process dynalite, Secrets Manager requests to the local file vault. Clients
 * reach it through the standard `AWS_ENDPOINT_URL`, so the AWS adapters run unchanged.
 */
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import type { LocalFileVault } from '#adapters/local-file-vault.ts';
import { type AwsJsonReply, awsError, secretsManagerAction } from './secrets-manager-api.ts';

/** Extra services (the local event bus, the outbox) plug in by target prefix. */
export type JsonService = (
  action: string,
  input: Record<string, unknown>,
) => Promise<AwsJsonReply> | AwsJsonReply;

export interface LocalEndpoint {
  url: string;
  server: Server;
  /** Adds a JSON-protocol service, e.g. `AWSEvents` for EventBridge. */
  register(targetPrefix: string, service: JsonService): void;
  close(): Promise<void>;
}

/**
 * Starts the endpoint on 127.0.0.1:`port` (0 picks a free port). `dataDir` undefined keeps
 * the table in memory, for tests.
 */
export async function startLocalEndpoint(options: {
  port: number;
  tableDir: string | undefined;
  vault: LocalFileVault;
}): Promise<LocalEndpoint> {
  // dynalite's own server is the endpoint: its close() also closes the LevelDB store, which
  // releases the data folder's lock. Its DynamoDB listener is kept and wrapped.
  const server = dynalite({
    ...(options.tableDir ? { path: options.tableDir } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  const dynamoListener = server.listeners('request')[0] as RequestListener;
  server.removeAllListeners('request');
  const services = new Map<string, JsonService>([
    ['secretsmanager', (action, input) => secretsManagerAction(options.vault, action, input)],
  ]);

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    if (target.startsWith('DynamoDB_')) {
      dynamoListener(req, res);
      return;
    }
    const [prefix = '', action = ''] = target.split('.');
    const service = services.get(prefix);
    if (!service) {
      send(
        res,
        awsError(
          'UnknownOperationException',
          `The local endpoint does not serve ${target || 'this request'}.`,
        ),
      );
      return;
    }
    void readJson(req)
      .then((input) => service(action, input))
      .then((reply) => send(res, reply))
      .catch((error: unknown) => {
        const type = (error as { awsType?: string }).awsType ?? 'InternalFailure';
        send(
          res,
          awsError(
            type,
            error instanceof Error ? error.message : 'failure',
            type === 'InternalFailure' ? 500 : 400,
          ),
        );
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    register: (targetPrefix, service) => services.set(targetPrefix, service),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

function send(res: ServerResponse, reply: AwsJsonReply): void {
  const body = JSON.stringify(reply.body);
  const headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.1' };
  if (reply.status >= 400) headers['x-amzn-errortype'] = String(reply.body.__type);
  res.writeHead(reply.status, headers).end(body);
}
