/**
 * The CLI's connector commands: `rekey connector create` binds a ticketing system to a realm
 * (the record in the table, the inbound secret in the vault — Secrets Manager with
 * REKEY_BACKEND=aws — and, locally, the reply credential the deliverer sends) and prints the
 * intake URL and the inbound secret, shown this once. `rekey deliveries` prints the local
 * deliverer's calls (method, URL, status, body; never a credential).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConnectorStore } from '#adapters/connector-store.ts';
import type { Runtime } from '#adapters/runtime.ts';
import { ENV, SECRET_PREFIXES } from '#functions/contracts.ts';
import {
  CONNECTOR_ID,
  CONNECTOR_KINDS,
  type Connector,
  type ConnectorKind,
  connectorSecretNames,
  intakePath,
  replyUrlProblem,
  SECRET_HEADER,
  SERVICENOW_TABLE,
  ZENDESK_SIGNATURE_HEADER,
  ZENDESK_TIMESTAMP_HEADER,
} from '#functions/ticketing/connectors.ts';
import { readJsonLines } from '#infra/local/event-bus.ts';
import { type DeliveryLine, deliveriesLogPath } from '#infra/local/ticket-replies.ts';

export interface ConnectorIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

export interface ConnectorCreateOptions {
  id: string;
  kind: string;
  realm: string;
  replyUrl: string;
  table?: string | undefined;
  /** A file holding the Authorization header value for the system's API (local deliverer only). */
  replyAuthFile?: string | undefined;
  /**
   * A file holding the inbound secret to keep (Zendesk generates its webhooks' signing secrets:
   * reveal it in Zendesk and pass it here). Default: a new random secret.
   */
  inboundSecretFile?: string | undefined;
  /** The API's base URL, for the intake URL printed (locally: npm start's gateway). */
  apiUrl: string | undefined;
  local: boolean;
}

/** A refusal of the operator's input (exit 2), raised before anything is written. */
export class ConnectorInputError extends Error {}

/** Checks every option, then writes: the secrets first, the record last (what the intake looks up). */
export async function createConnector(
  runtime: Runtime,
  options: ConnectorCreateOptions,
  env: NodeJS.ProcessEnv,
  io: ConnectorIo,
): Promise<void> {
  if (!CONNECTOR_ID.test(options.id)) {
    throw new ConnectorInputError(
      '--id must be 1-48 lower-case letters, digits and "-", starting with a letter or digit',
    );
  }
  if (!CONNECTOR_KINDS.includes(options.kind as ConnectorKind)) {
    throw new ConnectorInputError(`--kind must be one of ${CONNECTOR_KINDS.join(', ')}`);
  }
  const kind = options.kind as ConnectorKind;
  const urlProblem = replyUrlProblem(options.replyUrl);
  if (urlProblem) throw new ConnectorInputError(`--reply-url ${urlProblem}`);
  if (options.table !== undefined && (kind !== 'servicenow' || !SERVICENOW_TABLE.test(options.table))) {
    throw new ConnectorInputError(
      '--table is for servicenow only: a table name like incident or sc_req_item',
    );
  }
  let authorization: string | undefined;
  if (!options.local) {
    // In AWS the reply credential is the stack's (the `connectors` context's EventBridge
    // connection): a copy in Secrets Manager would sit under the prefix the internet-facing
    // ticket intake reads, serve nothing, and never be rotated.
    if (options.replyAuthFile !== undefined) {
      throw new ConnectorInputError(
        "--reply-auth-file is for npm start's deliverer only: with REKEY_BACKEND=aws the reply credential goes in the stack's connectors context (docs/ticketing.md), not in Secrets Manager",
      );
    }
    // The inbound secret is encrypted with the stack's key, which the intake's role may use.
    if (!env[ENV.kmsKeyId]) {
      throw new ConnectorInputError(
        `with REKEY_BACKEND=aws, set ${ENV.kmsKeyId} to the stack's KMS key (its key id or ARN): the inbound secret is encrypted with it`,
      );
    }
  }
  if (options.replyAuthFile !== undefined) {
    try {
      authorization = readFileSync(options.replyAuthFile, 'utf8').trim();
    } catch {
      // The argument is not quoted either: a credential given where its file's path belongs
      // would be printed on the terminal (and in a CI log).
      throw new ConnectorInputError('the file given to --reply-auth-file cannot be read');
    }
    if (!/^[\x21-\x7e][\x20-\x7e]*$/.test(authorization)) {
      // Its content is never quoted: it is a credential.
      throw new ConnectorInputError('--reply-auth-file must hold one line: the Authorization header value');
    }
  }
  let given: string | undefined;
  if (options.inboundSecretFile !== undefined) {
    try {
      given = readFileSync(options.inboundSecretFile, 'utf8').trim();
    } catch {
      throw new ConnectorInputError('the file given to --inbound-secret-file cannot be read');
    }
    if (!/^[\x21-\x7e]{16,256}$/.test(given)) {
      throw new ConnectorInputError(
        '--inbound-secret-file must hold one secret of 16-256 printable characters',
      );
    }
  }
  const { deps, settings } = runtime;
  if (!(await deps.directory.getRealm(options.realm))) {
    throw new ConnectorInputError(`realm ${options.realm} does not exist`);
  }
  const store = new ConnectorStore(runtime.dynamoDb, settings.tableName);
  if (await store.get(options.id)) throw new ConnectorInputError(`a connector ${options.id} exists`);

  const prefix = env[ENV.connectorSecretPrefix] || SECRET_PREFIXES.connector;
  const names = connectorSecretNames(prefix, options.id);
  const inbound = given ?? randomBytes(32).toString('base64url');
  const tags = { 'rekey:connector': options.id, 'rekey:realm': options.realm };
  const created: string[] = [];
  try {
    created.push(
      (
        await deps.vault.create({
          name: names.inbound,
          value: JSON.stringify({ secret: inbound }),
          description: `rekey: inbound secret of ticketing connector ${options.id} (${kind})`,
          tags,
        })
      ).secretId,
    );
    if (authorization !== undefined) {
      created.push(
        (
          await deps.vault.create({
            name: names.reply,
            value: JSON.stringify({ authorization }),
            description: `rekey: API credential of ticketing connector ${options.id} (${kind}), for the local deliverer`,
            tags,
          })
        ).secretId,
      );
    }
    const connector: Connector = {
      connectorId: options.id,
      kind,
      realmId: options.realm,
      replyUrl: options.replyUrl,
      ...(options.table ? { table: options.table } : {}),
      createdAt: new Date().toISOString(),
    };
    await store.create(connector);
  } catch (error) {
    for (const secretId of created) await deps.vault.delete(secretId).catch(() => undefined);
    throw error;
  }
  const intakeUrl = options.apiUrl
    ? `${options.apiUrl.replace(/\/+$/, '')}${intakePath(options.id)}`
    : undefined;
  io.out(
    JSON.stringify(
      {
        connectorId: options.id,
        kind,
        realmId: options.realm,
        replyUrl: options.replyUrl,
        ...(options.table ? { table: options.table } : {}),
        intakeUrl: intakeUrl ?? `<your API URL>${intakePath(options.id)}`,
        // Shown once; a secret the operator gave is not repeated.
        inboundSecret: given === undefined ? inbound : '(as given)',
        inboundSecretId: created[0],
        sender:
          kind === 'zendesk'
            ? `Zendesk signs with this secret: ${ZENDESK_SIGNATURE_HEADER} and ${ZENDESK_TIMESTAMP_HEADER}`
            : `send this secret in the ${SECRET_HEADER} header`,
        replyCredential: authorization !== undefined ? 'stored in the vault' : 'none',
      },
      null,
      2,
    ),
  );
  io.err(
    `${given === undefined ? 'the inbound secret is shown this once; it' : 'the inbound secret you gave'} is kept in ${names.inbound}${options.local ? ' (local vault)' : ''}. See docs/ticketing.md for the ${kind} side.`,
  );
}

/** Prints the local deliverer's calls, one per line. */
export function printDeliveries(dataDir: string, io: ConnectorIo): void {
  for (const line of readJsonLines<DeliveryLine>(deliveriesLogPath(dataDir))) io.out(JSON.stringify(line));
}
