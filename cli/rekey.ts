/**
 * `rekey`, the operator CLI. It talks to the running embedded backend (through its
 * AWS-compatible endpoint) or, with REKEY_BACKEND=aws, to AWS or any compatible endpoint
 * through the standard SDK environment. Results go to stdout alone; messages to stderr.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { ClientOptions } from '#adapters/aws-clients.ts';
import { createDynamoDbClient } from '#adapters/aws-clients.ts';
import { OutboxNotifier } from '#adapters/outbox-notifier.ts';
import { createRuntime, type Runtime, settingsFromEnv } from '#adapters/runtime.ts';
import { RekeyError, SecretNotFoundError } from '#core/errors.ts';
import { newInstance, newRealm, newUser } from '#core/factories.ts';
import { DEFAULT_LOCKOUT, DEFAULT_TEMPORARY_PASSWORD_LIFETIME_SECONDS } from '#core/model.ts';
import { POLICY_PRESET_NAMES, type PolicyPresetName } from '#core/policy.ts';
import { sweepTemporarySecrets } from '#core/use-cases/sweep-temporary-secrets.ts';
import { sweeperSettingsFromEnv } from '#functions/sweeper/settings.ts';
import { idText, nameText } from '#http/text.ts';
import { loadDevKey, mintToken } from '#infra/local/dev-tokens.ts';
import { LOCAL_REGION, localClientOptions } from '#infra/local/embedded-backend.ts';
import {
  credentialsPath,
  type LocalCredentials,
  requireLocalCredentials,
} from '#infra/local/endpoint-credentials.ts';
import { localEnv } from '#infra/local/local-settings.ts';
import { ensureTable } from '#infra/local/table.ts';
import { printEvents, sendEvents } from './event-commands.ts';

const HELP = `rekey — operate a rekey directory

Usage: rekey <command> [options]

Commands:
  bootstrap                                   create the table where it is missing
  realm create --id ID --name NAME [--policy PRESET] [--sso-enabled]
               [--lockout-attempts N] [--lockout-minutes M] [--temporary-password-days D]
                                              presets: ${POLICY_PRESET_NAMES.join(', ')} (default oci);
                                              --sso-enabled: SSO logon on: no route or ticket sets a user's password;
                                              lock a user out after N failed sign-ins in a row
                                              (1-100, default ${DEFAULT_LOCKOUT.maxFailedAttempts}) for M minutes (1-1440, default ${DEFAULT_LOCKOUT.lockSeconds / 60});
                                              generated temporary passwords expire after D days
                                              (1-90, default ${DEFAULT_TEMPORARY_PASSWORD_LIFETIME_SECONDS / 86_400})
  user create --realm ID --id ID --username NAME [--email E] [--phone P] [--federated]
  token --realm ID [--subject S] [--ttl SECONDS]
                                              print a development admin token (local gateway key)
  secret get SECRET_ID                        print a secret's JSON value
  instance create --project ID --id ID [--host H] [--port P] [--engine E]
                                              register a DDM instance in a project (= realm; --realm
                                              is a synonym); its admin is created by the API
  outbox                                      print the local outbox (notifications sent), as JSON lines
  event send FILE.json                        put the ticketing event(s) in FILE (one event or an array)
                                              on the bus; locally, print their result events
  events                                      print the local events log (result events), as JSON lines
  env                                         print the embedded endpoint's credentials, region and URL as
                                              shell exports, for the AWS CLI or REKEY_BACKEND=aws:
                                              eval "$(npx rekey env)"
  sweep                                       run the sweeper once: delete expired and orphan temporary
                                              secrets, and DDM secrets a failed creation left behind;
                                              print what it did as JSON

Environment:
  REKEY_BACKEND=aws        use AWS (or AWS_ENDPOINT_URL) instead of the local backend
  REKEY_LOCAL_ENDPOINT     the embedded backend's endpoint (default http://127.0.0.1:4566); it
                           accepts only requests signed with the credentials in REKEY_DATA_DIR
  REKEY_DATA_DIR           the local data folder (default .rekey)
  REKEY_TABLE              the table name (default rekey)
  REKEY_TEMP_SECRET_PREFIX, REKEY_DDM_SECRET_PREFIX  secret name prefixes (default rekey/temp/, rekey/ddm/)
  REKEY_EVENT_BUS_NAME     the event bus of \`event send\` (default rekey)
  REKEY_SWEEPER_GRACE_SECONDS  age before \`sweep\` deletes an unreferenced secret (default and minimum 900)
`;

export class UsageError extends Error {}

const NOUNS = new Set(['realm', 'user', 'secret', 'instance', 'event']);

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const stdio: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

/** Runs one CLI invocation; resolves to the exit code. */
export async function main(
  argv: string[],
  io: Io = stdio,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (!command || command === '--help' || command === '-h' || command === 'help') {
      io.out(HELP);
      return 0;
    }
    // The CLI is a local tool: npm start's values fill what the environment leaves unset.
    await run(command, rest, io, localEnv(env));
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`rekey: ${error.message}\n\n${HELP}`);
      return 2;
    }
    io.err(`rekey: ${describe(error)}`);
    return 1;
  }
}

async function run(command: string, args: string[], io: Io, env: NodeJS.ProcessEnv): Promise<void> {
  const context = new CliContext(env);
  // Nouns take a verb (`realm create`); the rest are verbs of their own (`token`).
  const withVerb = NOUNS.has(command);
  const name = withVerb ? `${command} ${args[0] ?? ''}` : command;
  const rest = withVerb ? args.slice(1) : args;
  switch (name) {
    case 'bootstrap': {
      const created = await ensureTable(
        createDynamoDbClient(await context.clients()),
        context.runtime.settings.tableName,
      );
      io.err(
        created
          ? `created table ${context.runtime.settings.tableName}`
          : `table ${context.runtime.settings.tableName} exists`,
      );
      return;
    }
    case 'realm create': {
      const { values } = usage(() =>
        parseArgs({
          args: rest,
          strict: true,
          allowPositionals: false,
          options: {
            id: { type: 'string' },
            name: { type: 'string' },
            policy: { type: 'string' },
            'sso-enabled': { type: 'boolean' },
            'lockout-attempts': { type: 'string' },
            'lockout-minutes': { type: 'string' },
            'temporary-password-days': { type: 'string' },
          },
        }),
      );
      const policy = (values.policy ?? 'oci') as PolicyPresetName;
      if (!POLICY_PRESET_NAMES.includes(policy)) throw new UsageError(`unknown policy preset ${policy}`);
      const attempts = integerOption(values['lockout-attempts'], '--lockout-attempts', 1, 100);
      const minutes = integerOption(values['lockout-minutes'], '--lockout-minutes', 1, 1440);
      const days = integerOption(values['temporary-password-days'], '--temporary-password-days', 1, 90);
      // Every value is checked before the backend is asked anything: a refusal creates nothing.
      const realm = newRealm(checked('id', values.id, '--id'), checked('name', values.name, '--name'), {
        policy,
        ssoEnabled: values['sso-enabled'] ?? false,
        lockout: {
          ...(attempts !== undefined ? { maxFailedAttempts: attempts } : {}),
          ...(minutes !== undefined ? { lockSeconds: minutes * 60 } : {}),
        },
        ...(days !== undefined ? { temporaryPasswordLifetimeSeconds: days * 86_400 } : {}),
      });
      await (await context.deps()).directory.createRealm(realm);
      io.out(JSON.stringify(realm, null, 2));
      return;
    }
    case 'user create': {
      const { values } = usage(() =>
        parseArgs({
          args: rest,
          strict: true,
          allowPositionals: false,
          options: {
            realm: { type: 'string' },
            id: { type: 'string' },
            username: { type: 'string' },
            email: { type: 'string' },
            phone: { type: 'string' },
            federated: { type: 'boolean' },
          },
        }),
      );
      const deps = await context.deps();
      const realmId = required(values.realm, '--realm');
      if (!(await deps.directory.getRealm(realmId))) throw new Error(`realm ${realmId} does not exist`);
      const user = newUser({
        realmId,
        userId: checked('id', values.id, '--id'),
        username: checked('name', values.username, '--username'),
        ...(values.email ? { email: values.email } : {}),
        ...(values.phone ? { phone: values.phone } : {}),
        federated: values.federated ?? false,
      });
      await deps.directory.createUser(user);
      io.out(JSON.stringify(user, null, 2));
      return;
    }
    case 'token': {
      const { values } = usage(() =>
        parseArgs({
          args: rest,
          strict: true,
          allowPositionals: false,
          options: { realm: { type: 'string' }, subject: { type: 'string' }, ttl: { type: 'string' } },
        }),
      );
      const key = await loadDevKey(join(context.dataDir, 'keys'));
      io.out(
        await mintToken(key, {
          realmId: required(values.realm, '--realm'),
          ...(values.subject ? { subject: values.subject } : {}),
          ...(values.ttl ? { ttlSeconds: Number(values.ttl) } : {}),
        }),
      );
      return;
    }
    case 'secret get': {
      const secretId = rest[0];
      if (!secretId) throw new UsageError('secret get needs a SECRET_ID');
      const value = await (await context.deps()).vault.read(secretId);
      io.out(prettyJson(value));
      return;
    }
    case 'instance create': {
      const { values } = usage(() =>
        parseArgs({
          args: rest,
          strict: true,
          allowPositionals: false,
          options: {
            realm: { type: 'string' },
            project: { type: 'string' },
            id: { type: 'string' },
            host: { type: 'string' },
            port: { type: 'string' },
            engine: { type: 'string' },
          },
        }),
      );
      const deps = await context.deps();
      // Huawei calls the realm a project: --project is accepted as a synonym of --realm.
      const realmId = required(values.realm ?? values.project, '--realm');
      if (!(await deps.directory.getRealm(realmId))) throw new Error(`realm ${realmId} does not exist`);
      const instanceId = checked('id', values.id, '--id');
      const port = Number(values.port ?? 3306);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError('--port must be 1-65535');
      const instance = newInstance({
        realmId,
        instanceId,
        port,
        ...(values.host ? { host: values.host } : {}),
        ...(values.engine ? { engine: values.engine } : {}),
      });
      await deps.directory.saveInstance(instance, undefined);
      io.out(JSON.stringify(instance, null, 2));
      return;
    }
    case 'sweep': {
      usage(() => parseArgs({ args: rest, strict: true, allowPositionals: false, options: {} }));
      const deps = await context.deps();
      const report = await sweepTemporarySecrets(deps, sweeperSettingsFromEnv(env));
      io.out(JSON.stringify(report, null, 2));
      return;
    }
    case 'outbox': {
      for (const entry of new OutboxNotifier(join(context.dataDir, 'outbox.jsonl')).read()) {
        io.out(JSON.stringify(entry));
      }
      return;
    }
    case 'event send': {
      const file = rest[0];
      if (!file || rest.length > 1) throw new UsageError('event send needs one FILE');
      await sendEvents(file, { clients: await context.clients(), env, dataDir: context.dataDir, io });
      return;
    }
    case 'events': {
      printEvents(context.dataDir, io);
      return;
    }
    case 'env': {
      usage(() => parseArgs({ args: rest, strict: true, allowPositionals: false, options: {} }));
      const credentials = context.localCredentials();
      // Single-quoted: the values are base64url and a URL, but the shell must not read them.
      io.out(
        [
          `export AWS_ACCESS_KEY_ID='${credentials.accessKeyId}'`,
          `export AWS_SECRET_ACCESS_KEY='${credentials.secretAccessKey}'`,
          `export AWS_REGION='${LOCAL_REGION}'`,
          // The AWS CLI reads AWS_DEFAULT_REGION.
          `export AWS_DEFAULT_REGION='${LOCAL_REGION}'`,
          `export AWS_ENDPOINT_URL='${context.localEndpoint}'`,
          // A session token left from other credentials would be signed along and refused.
          'unset AWS_SESSION_TOKEN',
        ].join('\n'),
      );
      return;
    }
    default:
      throw new UsageError(`unknown command: ${name}`);
  }
}

/** Where the CLI's clients point, resolved once per invocation. */
class CliContext {
  readonly dataDir: string;
  private options: ClientOptions | undefined;
  private built: Runtime | undefined;

  constructor(private readonly env: NodeJS.ProcessEnv) {
    this.dataDir = env.REKEY_DATA_DIR ?? '.rekey';
  }

  get runtime(): Runtime {
    // The invocation's environment, not the process's: `main(argv, io, env)` must honour
    // REKEY_TABLE and the prefixes it is given, like it honours REKEY_DATA_DIR.
    this.built ??= createRuntime('cli', { clients: this.options ?? {}, settings: settingsFromEnv(this.env) });
    return this.built;
  }

  /** Client options; for the local backend, only once it answers. */
  async clients(): Promise<ClientOptions> {
    if (this.options) return this.options;
    if (this.env.REKEY_BACKEND === 'aws') {
      this.options = {};
      return this.options;
    }
    const url = this.localEndpoint;
    try {
      await fetch(url, { method: 'POST', signal: AbortSignal.timeout(2000) });
    } catch {
      throw new Error(
        `no embedded backend answers at ${url}; start it with "npm start" (or set REKEY_BACKEND=aws)`,
      );
    }
    const options = localClientOptions(url, this.localCredentials());
    await checkCredentials(options, credentialsPath(this.dataDir));
    this.options = options;
    this.built = undefined;
    return this.options;
  }

  get localEndpoint(): string {
    return this.env.REKEY_LOCAL_ENDPOINT ?? 'http://127.0.0.1:4566';
  }

  /** The credentials `npm start` keeps in the data folder: the only ones its endpoint accepts. */
  localCredentials(): LocalCredentials {
    return requireLocalCredentials(this.dataDir);
  }

  async deps() {
    await this.clients();
    return this.runtime.deps;
  }
}

const REFUSED_CREDENTIALS = [
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'AccessDeniedException',
];

/**
 * One cheap signed call, so that credentials the embedded backend refuses (REKEY_DATA_DIR is
 * another folder than the running server's) are named as such, rather than surfacing as a
 * vault or directory "unavailable" from the adapters. Other failures are left to the command.
 */
async function checkCredentials(options: ClientOptions, path: string): Promise<void> {
  const client = createDynamoDbClient({ ...options });
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }));
  } catch (error) {
    if (REFUSED_CREDENTIALS.includes((error as Error).name)) {
      throw new Error(
        `the embedded backend refused the credentials in ${path}: is REKEY_DATA_DIR the data folder of the running "npm start"?`,
      );
    }
  } finally {
    client.destroy();
  }
}

/** Turns parseArgs' complaints into usage errors (exit code 2, with the help text). */
function usage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * A secret's value, indented when it is JSON and as it is otherwise: JSON.parse's error
 * quotes its input, and a secret's value must never end up in an error message.
 */
function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function required(value: string | undefined, flag: string): string {
  if (!value) throw new UsageError(`${flag} is required`);
  return value;
}

/**
 * An optional whole number from `min` to `max`, written in plain decimal digits: `1e1`, `0x10`,
 * `7.5`, ` 7` and `07` are refused rather than read as something the operator did not type.
 */
function integerOption(
  value: string | undefined,
  flag: string,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  const n = /^[1-9][0-9]{0,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= min && n <= max))
    throw new UsageError(
      `${flag} must be a whole number from ${min} to ${max}, not ${JSON.stringify(value)}`,
    );
  return n;
}

/**
 * An id or a name the routes will accept: a user created with a name change-password refuses
 * (a full-width or decomposed look-alike, say) could never sign in.
 */
function checked(kind: 'id' | 'name', value: string | undefined, flag: string): string {
  const text = required(value, flag);
  const result = (kind === 'id' ? idText(255) : nameText(255)).safeParse(text);
  if (!result.success) throw new UsageError(`${flag} ${result.error.issues[0]?.message ?? 'is not valid'}`);
  return text;
}

function describe(error: unknown): string {
  if (error instanceof SecretNotFoundError) return `${error.message}`;
  if (error instanceof RekeyError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
