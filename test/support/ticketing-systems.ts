/**
 * Ticketing systems' side of the intake, for tests: a fake Zendesk / Jira / ServiceNow API
 * server that records every call it gets (method, path, headers, body) and answers with a
 * status the test sets, the requests each system sends to rekey, and connectors made with the
 * CLI's own code.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createRuntime } from '#adapters/runtime.ts';
import { createConnector } from '#cli/connector-commands.ts';
import { zendeskSignature } from '#functions/ticket-intake/senders.ts';
import {
  SECRET_HEADER,
  ZENDESK_SIGNATURE_HEADER,
  ZENDESK_TIMESTAMP_HEADER,
} from '#functions/ticketing/connectors.ts';
import { localEnv } from '#infra/local/local-settings.ts';
import type { TestApi } from './test-api.ts';

export interface ReceivedCall {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface FakeTicketingSystem {
  url: string;
  calls: ReceivedCall[];
  /** The status every call gets from now on (default 200). */
  answerWith(status: number): void;
  close(): Promise<void>;
}

/** Starts a fake ticketing API on 127.0.0.1 (a free port). */
export async function startFakeTicketingSystem(): Promise<FakeTicketingSystem> {
  const calls: ReceivedCall[] = [];
  let status = 200;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      calls.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: { ...req.headers },
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status < 300 ? '{}' : '{"error":"unavailable"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    answerWith: (next) => {
      status = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface CreatedConnector {
  connectorId: string;
  inboundSecret: string;
  intakeUrl: string;
}

/** Creates a connector through the CLI's code against the test API's backend. */
export async function createTestConnector(
  t: TestApi,
  options: {
    id: string;
    kind: string;
    realm: string;
    replyUrl: string;
    table?: string;
    authorization?: string;
  },
  scratchDir: string,
): Promise<CreatedConnector> {
  const runtime = createRuntime('test-cli', { clients: t.api.clients });
  let replyAuthFile: string | undefined;
  if (options.authorization) {
    replyAuthFile = join(scratchDir, `${options.id}.auth`);
    writeFileSync(replyAuthFile, options.authorization, { mode: 0o600 });
  }
  const out: string[] = [];
  try {
    await createConnector(runtime, { ...options, replyAuthFile, apiUrl: t.url, local: true }, localEnv(), {
      out: (text) => out.push(text),
      err: () => undefined,
    });
  } finally {
    runtime.dynamoDb.destroy();
  }
  return JSON.parse(out.join('')) as CreatedConnector;
}

/**
 * The headers of a Zendesk webhook request: its signature over timestamp + body
 * (https://developer.zendesk.com/documentation/webhooks/verifying/), the timestamp in ISO 8601
 * as Zendesk sends it.
 */
export function zendeskHeaders(secret: string, body: string, at: Date = new Date()): Record<string, string> {
  const timestamp = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    'content-type': 'application/json',
    [ZENDESK_SIGNATURE_HEADER]: zendeskSignature(secret, timestamp, body),
    [ZENDESK_TIMESTAMP_HEADER]: timestamp,
  };
}

/** The headers of a Jira Automation "Send web request" or a ServiceNow REST message: the secret header. */
export function secretHeaders(secret: string): Record<string, string> {
  return { 'content-type': 'application/json', [SECRET_HEADER]: secret };
}
