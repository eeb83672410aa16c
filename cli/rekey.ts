/**
 * `rekey`, the operator CLI. It talks to the running embedded backend (through its
 * AWS-compatible endpoint) or, with REKEY_BACKEND=aws, to AWS or any compatible endpoint
 * through the standard SDK environment. Results go to stdout alone; messages to stderr.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, DescribeEventBusCommand } from '@aws-sdk/client-eventbridge';
import type { ClientOptions } from '#adapters/aws-clients.ts';
import { createDynamoDbClient, createEventBridgeClient } from '#adapters/aws-clients.ts';
import { DEFAULT_EVENT_BUS_NAME } from '#adapters/eventbridge-publisher.ts';
import { OutboxNotifier } from '#adapters/outbox-notifier.ts';
import { createRuntime, type Runtime, settingsFromEnv } from '#adapters/runtime.ts';
import { RekeyError, SecretNotFoundError } from '#core/errors.ts';
import { newInstance, newRealm, newUser } from '#core/factories.ts';
import {
  DEFAULT_LOCKOUT,
  DEFAULT_TEMPORARY_PASSWORD_LIFETIME_SECONDS,
  MAX_TEMPORARY_PASSWORD_LIFETIME_SECONDS,
  MIN_TEMPORARY_PASSWORD_LIFETIME_SECONDS,
  type Realm,
} from '#core/model.ts';
import {
  type CharacterClass,
  type PasswordPolicy,
  POLICY_PRESET_NAMES,
  POLICY_PRESETS,
  type PolicyPresetName,
  policyProblems,
  resolvePolicy,
} from '#core/policy.ts';
import { sweepTemporarySecrets } from '#core/use-cases/sweep-temporary-secrets.ts';
import { sweeperSettingsFromEnv } from '#functions/sweeper/settings.ts';
import { MAX_TOKEN_LIFETIME_SECONDS } from '#functions/token-authorizer/authorizer.ts';
import { idText, nameText } from '#http/text.ts';
import { loadDevKey, mintToken } from '#infra/local/dev-tokens.ts';
import { LOCAL_REGION, localClientOptions } from '#infra/local/embedded-backend.ts';
import {
  credentialsPath,
  type LocalCredentials,
  requireLocalCredentials,
} from '#infra/local/endpoint-credentials.ts';
import { localEnv } from '#infra/local/local-settings.ts';
import { DATA_FOLDER_NAME, findDataDir, isAlive, RUN_FILE, readRunFile } from '#infra/local/run-file.ts';
import { ensureTable } from '#infra/local/table.ts';
import { ConnectorInputError, createConnector, printDeliveries } from './connector-commands.ts';
import { printAudit, printEvents, sendEvents } from './event-commands.ts';

/** Each command's usage: its line(s) in `rekey --help`, and all of `rekey COMMAND --help`. */
const COMMANDS: ReadonlyArray<readonly [name: string, usage: string]> = [
  [
    'bootstrap',
    `bootstrap                                   create the table and the event bus where they are missing;
                                              say what it does not create (the queue, the worker: the stacks')`,
  ],
  [
    'realm create',
    `realm create --id ID --name NAME [--policy PRESET] [--sso-enabled]
               [--lockout-attempts N] [--lockout-minutes M]
               [--temporary-password-lifetime 24h|7d | --temporary-password-days D]
               [--admins-choose-passwords true|false]
                                              presets: ${POLICY_PRESET_NAMES.join(', ')} (default oci);
                                              --sso-enabled: SSO logon on: no route or ticket sets a user's password;
                                              lock a user out after N failed sign-ins in a row
                                              (1-100, default ${DEFAULT_LOCKOUT.maxFailedAttempts}) for M minutes (1-1440, default ${DEFAULT_LOCKOUT.lockSeconds / 60});
                                              temporary passwords expire after a lifetime in hours or days
                                              (1h to 90d; or D days, 1-90; default ${DEFAULT_TEMPORARY_PASSWORD_LIFETIME_SECONDS / 86_400}d);
                                              --admins-choose-passwords false: admins may only issue generated,
                                              vaulted passwords (default true)`,
  ],
  [
    'realm policy set',
    `realm policy set --realm ID [--preset PRESET] [--name NAME] [--min-length N] [--max-length N]
               [--required CLASSES] [--min-classes N] [--specials CHARS] [--allow-other-characters true|false]
               [--forbid-username true|false] [--history-depth N] [--generated-length N]
               [--blocklist true|false] [--admins-choose-passwords true|false]
               [--temporary-password-lifetime 24h|7d]
                                              set a realm's password policy: a preset as it is, or the preset
                                              (default: the realm's current policy) with the rules given changed,
                                              as the realm's own policy NAME (default custom); CLASSES is a comma
                                              list of lower, upper, digit, special (or none); --blocklist false
                                              turns off the common-password list and context words; the whole
                                              result is checked and nothing is written on a bad value`,
  ],
  [
    'realm policy show',
    `realm policy show --realm ID                print a realm's password policy (the rules in force, with
                                              "blocklist") and its password options, as JSON`,
  ],
  ['user create', 'user create --realm ID --id ID --username NAME [--email E] [--phone P] [--federated]'],
  [
    'token',
    `token --realm ID [--subject S] [--ttl SECONDS]
                                              print a development admin token (local gateway key) for a
                                              realm that exists, valid SECONDS (1-${MAX_TOKEN_LIFETIME_SECONDS}, default 43200)`,
  ],
  ['secret get', "secret get SECRET_ID                        print a secret's JSON value"],
  [
    'instance create',
    `instance create --project ID --id ID [--host H] [--port P] [--engine E]
                                              register a DDM instance in a project (= realm; --realm
                                              is a synonym); its admin is created by the API`,
  ],
  [
    'outbox',
    'outbox                                      print the local outbox (notifications sent), as JSON lines',
  ],
  [
    'event send',
    `event send FILE.json                        put the ticketing event(s) in FILE (one event or an array)
                                              on the bus; locally, print their result events; with
                                              REKEY_BACKEND=aws, print the bus's answer (the event ids)`,
  ],
  [
    'events',
    'events                                      print the local events log (result events), as JSON lines',
  ],
  [
    'audit',
    `audit [--realm ID] [--user ID]              print the local audit records (every password set, reset,
                                              changed or refused; OCSF Account Change), as JSON lines`,
  ],
  [
    'connector create',
    `connector create --id ID --kind zendesk|jira|servicenow --realm REALM --reply-url URL
                 [--table TABLE] [--reply-auth-file FILE] [--inbound-secret-file FILE]
                                              bind a ticketing system to a realm: print the intake URL
                                              and the inbound secret (shown once; kept in the vault, or
                                              Secrets Manager with REKEY_BACKEND=aws); --table: the
                                              ServiceNow table (default incident); --reply-auth-file:
                                              the Authorization header value for the system's API, for
                                              the local deliverer only (in AWS the stack's connection
                                              holds it; refused with REKEY_BACKEND=aws, which also needs
                                              REKEY_KMS_KEY_ID);
                                              --inbound-secret-file: keep this secret instead of a new one
                                              (Zendesk's webhook signing secret)`,
  ],
  [
    'deliveries',
    `deliveries                                  print the local deliverer's calls to ticketing systems (method,
                                              URL, status, body; never a credential), as JSON lines`,
  ],
  [
    'env',
    `env                                         print the embedded endpoint's credentials, region and URL as
                                              shell exports, for the AWS CLI or REKEY_BACKEND=aws:
                                              eval "$(npx rekey env)"`,
  ],
  [
    'sweep',
    `sweep                                       run the sweeper once: delete expired and orphan temporary
                                              secrets, and DDM secrets a failed creation left behind;
                                              print what it did as JSON`,
  ],
];

const ENVIRONMENT = `Environment:
  REKEY_DATA_DIR           the local data folder (default: the nearest .rekey folder from the working
                           directory up, as git finds .git; the CLI never creates one, npm start does)
  REKEY_BACKEND=aws        use AWS (or AWS_ENDPOINT_URL) instead of the local backend
  REKEY_LOCAL_ENDPOINT     the embedded backend's endpoint (default: the one the npm start that owns the
                           data folder wrote in its run.json); it accepts only requests signed with the
                           credentials in the data folder
  REKEY_TABLE              the table name (default rekey)
  REKEY_TEMP_SECRET_PREFIX, REKEY_DDM_SECRET_PREFIX  secret name prefixes (default rekey/temp/, rekey/ddm/)
  REKEY_EVENT_BUS_NAME     the event bus of \`event send\` and \`bootstrap\` (default rekey)
  REKEY_EVENT_WAIT_SECONDS how long \`event send\` waits for the local results (default 30)
  REKEY_API_URL            with REKEY_BACKEND=aws: the deployed API's URL, for \`connector create\`'s intake URL
  REKEY_KMS_KEY_ID         with REKEY_BACKEND=aws: the stack's KMS key (output SecretsKeyArn), for \`connector create\`
  REKEY_SWEEPER_GRACE_SECONDS  age before \`sweep\` deletes an unreferenced secret (default and minimum 900)`;

const HELP = `rekey — operate a rekey directory

Usage: rekey <command> [options]
       rekey <command> --help
       rekey --version

Commands:
${COMMANDS.map(([, text]) => `  ${text}`).join('\n')}

${ENVIRONMENT}
`;

/** `rekey COMMAND --help`: the usage of one command (or of every verb of a noun: `rekey realm --help`). */
function commandHelp(name: string): string | undefined {
  const matching = COMMANDS.filter(([command]) => command === name || command.startsWith(`${name} `));
  if (matching.length === 0) return undefined;
  return `Usage: ${matching.map(([, text]) => `rekey ${text}`).join('\n       ')}

Run "rekey --help" for every command and the environment.`;
}

/** The package's version, from its package.json. */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/**
 * The caller's input is refused (exit 2). With `usage`, the command's usage follows the message;
 * `usage: false` is for a refusal that needs none (a realm that does not exist).
 */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string | false | undefined = undefined,
  ) {
    super(message);
  }
}

/** The signing key npm start keeps in `<data folder>/keys` (infra/local/dev-tokens.ts). */
const DEV_KEY_FILE = 'dev-jwt-key.json';

const NOUNS = new Set(['realm', 'user', 'secret', 'instance', 'event', 'connector']);
/** `realm policy set`: a noun's verb that takes a verb of its own. */
const SUB_NOUNS = new Set(['realm policy']);
const HELP_FLAGS = new Set(['--help', '-h']);

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const stdio: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

/** `realm create` for `realm create --id …`, `token` for `token --realm …`, `realm` for `realm --help`. */
function commandName([command = '', verb, subVerb]: string[]): string {
  if (!(NOUNS.has(command) && verb && !HELP_FLAGS.has(verb))) return command;
  const name = `${command} ${verb}`;
  return SUB_NOUNS.has(name) && subVerb && !HELP_FLAGS.has(subVerb) ? `${name} ${subVerb}` : name;
}

/** Runs one CLI invocation; resolves to the exit code. */
export async function main(
  argv: string[],
  io: Io = stdio,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (!command || HELP_FLAGS.has(command) || command === 'help') {
      io.out(HELP);
      return 0;
    }
    if (command === '--version' || command === '-v' || command === 'version') {
      io.out(packageVersion());
      return 0;
    }
    // `rekey token --help`, `rekey realm create --help`, `rekey realm --help`.
    const name = commandName(argv);
    if (rest.some((arg) => HELP_FLAGS.has(arg))) {
      const help = commandHelp(name);
      if (!help) throw new UsageError(`unknown command: ${name}`);
      io.out(help);
      return 0;
    }
    // The CLI is a local tool: npm start's values fill what the environment leaves unset.
    await run(command, rest, io, localEnv(env), cwd);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      // A known command's refusal shows that command's usage; an unknown one, every command.
      const usage = error.usage === undefined ? (commandHelp(commandName(argv)) ?? HELP) : error.usage;
      io.err(usage === false ? `rekey: ${error.message}` : `rekey: ${error.message}\n\n${usage}`);
      return 2;
    }
    io.err(`rekey: ${describe(error)}`);
    return 1;
  }
}

async function run(
  command: string,
  args: string[],
  io: Io,
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<void> {
  const context = new CliContext(env, cwd);
  // Nouns take a verb (`realm create`); the rest are verbs of their own (`token`).
  const withVerb = NOUNS.has(command);
  const withSubVerb = withVerb && SUB_NOUNS.has(`${command} ${args[0] ?? ''}`);
  const name = withSubVerb
    ? `${command} ${args[0]} ${args[1] ?? ''}`
    : withVerb
      ? `${command} ${args[0] ?? ''}`
      : command;
  const rest = withSubVerb ? args.slice(2) : withVerb ? args.slice(1) : args;
  switch (name) {
    case 'bootstrap': {
      options(rest, {});
      const clients = await context.clients();
      const tableName = context.runtime.settings.tableName;
      const created = await ensureTable(createDynamoDbClient(clients), tableName);
      io.err(created ? `created table ${tableName}` : `table ${tableName} exists`);
      const busName = env.REKEY_EVENT_BUS_NAME || DEFAULT_EVENT_BUS_NAME;
      const bus = await ensureEventBus(clients, busName);
      io.err(
        bus === 'created'
          ? `created event bus ${busName}`
          : bus === 'exists'
            ? `event bus ${busName} exists`
            : `event bus ${busName} is built into npm start's endpoint`,
      );
      // An endpoint that manages buses (AWS, an AWS-compatible emulator) has no rule, queue or
      // worker until the stacks deploy them; npm start's endpoint routes tickets to its own.
      if (bus !== 'built-in') io.err(NOT_BOOTSTRAPPED);
      return;
    }
    case 'realm create': {
      const { values } = options(rest, {
        id: { type: 'string' },
        name: { type: 'string' },
        policy: { type: 'string' },
        'sso-enabled': { type: 'boolean' },
        'lockout-attempts': { type: 'string' },
        'lockout-minutes': { type: 'string' },
        'temporary-password-days': { type: 'string' },
        'temporary-password-lifetime': { type: 'string' },
        'admins-choose-passwords': { type: 'string' },
      });
      const policy = (values.policy ?? 'oci') as PolicyPresetName;
      if (!POLICY_PRESET_NAMES.includes(policy)) throw new UsageError(`unknown policy preset ${policy}`);
      const attempts = integerOption(values['lockout-attempts'], '--lockout-attempts', 1, 100);
      const minutes = integerOption(values['lockout-minutes'], '--lockout-minutes', 1, 1440);
      const days = integerOption(values['temporary-password-days'], '--temporary-password-days', 1, 90);
      const lifetime = lifetimeOption(values['temporary-password-lifetime']);
      if (days !== undefined && lifetime !== undefined) {
        throw new UsageError('give --temporary-password-lifetime or --temporary-password-days, not both');
      }
      const seconds = lifetime ?? (days !== undefined ? days * 86_400 : undefined);
      const adminsChoose = booleanOption(values['admins-choose-passwords'], '--admins-choose-passwords');
      // Every value is checked before the backend is asked anything: a refusal creates nothing.
      const realm = newRealm(checked('id', values.id, '--id'), checked('name', values.name, '--name'), {
        policy,
        ssoEnabled: values['sso-enabled'] ?? false,
        lockout: {
          ...(attempts !== undefined ? { maxFailedAttempts: attempts } : {}),
          ...(minutes !== undefined ? { lockSeconds: minutes * 60 } : {}),
        },
        ...(seconds !== undefined ? { temporaryPasswordLifetimeSeconds: seconds } : {}),
        ...(adminsChoose !== undefined ? { adminsChoosePasswords: adminsChoose } : {}),
      });
      await (await context.deps()).directory.createRealm(realm);
      io.out(JSON.stringify(realm, null, 2));
      return;
    }
    case 'realm policy show': {
      const { values } = options(rest, { realm: { type: 'string' } });
      const realm = await existingRealm(await context.deps(), required(values.realm, '--realm'));
      io.out(JSON.stringify(passwordSettings(realm), null, 2));
      return;
    }
    case 'realm policy set': {
      const { values } = options(rest, POLICY_OPTIONS);
      const realmId = required(values.realm, '--realm');
      const deps = await context.deps();
      const realm = await existingRealm(deps, realmId);
      // Every value is checked, and the whole policy with it, before anything is written.
      const next = changedRealm(realm, values);
      await deps.directory.replaceRealm(next);
      io.out(JSON.stringify(passwordSettings(next), null, 2));
      return;
    }
    case 'user create': {
      const { values } = options(rest, {
        realm: { type: 'string' },
        id: { type: 'string' },
        username: { type: 'string' },
        email: { type: 'string' },
        phone: { type: 'string' },
        federated: { type: 'boolean' },
      });
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
      const { values } = options(rest, {
        realm: { type: 'string' },
        subject: { type: 'string' },
        ttl: { type: 'string' },
      });
      const realmId = required(values.realm, '--realm');
      // Refused here, in rekey's words: 0 would print an expired token, `abc` jose's own message.
      const ttlSeconds = integerOption(values.ttl, '--ttl', 1, MAX_TOKEN_LIFETIME_SECONDS);
      const keyFile = join(context.dataDir, 'keys', DEV_KEY_FILE);
      // The CLI signs with the key npm start made; it never makes one (the server would not know it).
      if (!existsSync(keyFile)) {
        throw new Error(`no signing key in ${keyFile}; "npm start" creates it in its data folder`);
      }
      if (!(await (await context.deps()).directory.getRealm(realmId))) {
        throw new UsageError(`realm ${realmId} does not exist`, false);
      }
      const key = await loadDevKey(join(context.dataDir, 'keys'));
      io.out(
        await mintToken(key, {
          realmId,
          ...(values.subject ? { subject: values.subject } : {}),
          ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
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
      const { values } = options(rest, {
        realm: { type: 'string' },
        project: { type: 'string' },
        id: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        engine: { type: 'string' },
      });
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
      options(rest, {});
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
    case 'audit': {
      const { values } = options(rest, { realm: { type: 'string' }, user: { type: 'string' } });
      printAudit(context.dataDir, io, {
        ...(values.realm !== undefined ? { realm: values.realm } : {}),
        ...(values.user !== undefined ? { user: values.user } : {}),
      });
      return;
    }
    case 'connector create': {
      const { values } = options(rest, {
        id: { type: 'string' },
        kind: { type: 'string' },
        realm: { type: 'string' },
        'reply-url': { type: 'string' },
        table: { type: 'string' },
        'reply-auth-file': { type: 'string' },
        'inbound-secret-file': { type: 'string' },
      });
      const local = env.REKEY_BACKEND !== 'aws';
      const connectorOptions = {
        id: required(values.id, '--id'),
        kind: required(values.kind, '--kind'),
        realm: required(values.realm, '--realm'),
        replyUrl: required(values['reply-url'], '--reply-url'),
        table: values.table,
        replyAuthFile: values['reply-auth-file'],
        inboundSecretFile: values['inbound-secret-file'],
        apiUrl: local ? readRunFile(context.dataDir)?.api : env.REKEY_API_URL,
        local,
      };
      await context.deps();
      try {
        await createConnector(context.runtime, connectorOptions, env, io);
      } catch (error) {
        if (error instanceof ConnectorInputError) throw new UsageError(error.message);
        throw error;
      }
      return;
    }
    case 'deliveries': {
      options(rest, {});
      printDeliveries(context.dataDir, io);
      return;
    }
    case 'env': {
      options(rest, {});
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
  private folder: string | undefined;
  private options: ClientOptions | undefined;
  private built: Runtime | undefined;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly cwd: string,
  ) {}

  /**
   * The data folder: REKEY_DATA_DIR, or the nearest `.rekey` from the working directory up (as
   * git finds `.git`). It must exist: the CLI never creates one, `npm start` does.
   */
  get dataDir(): string {
    if (this.folder) return this.folder;
    const found = findDataDir(this.env, this.cwd);
    if (!found) {
      throw new Error(
        `no data folder: neither ${this.cwd} nor a folder above it holds a ${DATA_FOLDER_NAME} folder; run "npm start" in the project (it creates one), or set REKEY_DATA_DIR`,
      );
    }
    if (!existsSync(found)) {
      throw new Error(`the data folder ${found} (REKEY_DATA_DIR) does not exist; "npm start" creates it`);
    }
    this.folder = found;
    return found;
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

  /**
   * The embedded endpoint: REKEY_LOCAL_ENDPOINT when set, else the one the `npm start` that owns
   * the data folder wrote in its run file. Never a default port: whatever listens there may be
   * another rekey, on another data folder.
   */
  get localEndpoint(): string {
    if (this.env.REKEY_LOCAL_ENDPOINT) return this.env.REKEY_LOCAL_ENDPOINT;
    const dataDir = this.dataDir;
    const run = readRunFile(dataDir);
    if (!run) {
      throw new Error(`no "npm start" is running on the data folder ${dataDir}; start it with "npm start"`);
    }
    if (!isAlive(run.pid)) {
      throw new Error(
        `no "npm start" is running on the data folder ${dataDir} (its ${RUN_FILE} names pid ${run.pid}, which has exited); start it with "npm start"`,
      );
    }
    if (run.backend === 'aws') {
      throw new Error(
        `the "npm start" on ${dataDir} (pid ${run.pid}) runs with REKEY_BACKEND=aws and has no local endpoint; set REKEY_BACKEND=aws for the CLI too`,
      );
    }
    if (!run.endpoint) {
      throw new Error(
        `the "npm start" on ${dataDir} (pid ${run.pid}) is still starting; try again in a moment`,
      );
    }
    return run.endpoint;
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

/** What `bootstrap` leaves to the stacks (printed with REKEY_BACKEND=aws). */
const NOT_BOOTSTRAPPED =
  'bootstrap does not create the rule that sends ticket events to the ticket queue, that queue and its dead-letter queue, the ticket worker, the sweeper schedule or the API: the CDK stacks deploy them. Without them, `rekey event send` puts events on the bus and prints their ids, and no result event follows.';

/**
 * Creates the event bus where it is missing. The embedded endpoint has its one bus built in
 * (it serves PutEvents alone): `built-in`.
 */
async function ensureEventBus(
  clients: ClientOptions,
  name: string,
): Promise<'created' | 'exists' | 'built-in'> {
  const client = createEventBridgeClient(clients);
  try {
    try {
      await client.send(new DescribeEventBusCommand({ Name: name }));
      return 'exists';
    } catch (error) {
      const code = (error as Error).name;
      if (code === 'UnknownOperationException') return 'built-in';
      if (code !== 'ResourceNotFoundException') throw error;
    }
    await client.send(new CreateEventBusCommand({ Name: name }));
    return 'created';
  } finally {
    client.destroy();
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

/** A command's `--name value` options, parsed strictly: anything else is a usage error. */
function options<const T extends NonNullable<ParseArgsConfig['options']>>(args: string[], spec: T) {
  return usage(() => parseArgs({ args, strict: true, allowPositionals: false, options: spec }));
}

/** Turns parseArgs' complaints into usage errors (exit code 2, with the help text). */
function usage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError(parseArgsProblem(error as Error & { code?: string }));
  }
}

/** An option's name as people type them: what a complaint may quote. */
const OPTION_NAME = /'(--?[A-Za-z][A-Za-z0-9-]{0,40})'/;

/**
 * parseArgs' complaint, repeating nothing that may be a value: an unquoted credential pasted
 * after `--reply-auth-file` splits into stray arguments, which parseArgs quotes ("Unexpected
 * argument 'cmVrZXk6…'"), and a value that starts with `-` reads as an unknown option.
 */
function parseArgsProblem(error: Error & { code?: string }): string {
  if (error.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    return 'this command takes no positional arguments (a value with spaces must be quoted)';
  }
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const name = OPTION_NAME.exec(error.message)?.[1];
    return name && error.message.startsWith(`Unknown option '${name}'`)
      ? `unknown option ${name}`
      : 'an argument is not one of its options';
  }
  return error.message;
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

/** The options of `realm policy set`. */
const POLICY_OPTIONS = {
  realm: { type: 'string' },
  preset: { type: 'string' },
  name: { type: 'string' },
  'min-length': { type: 'string' },
  'max-length': { type: 'string' },
  required: { type: 'string' },
  'min-classes': { type: 'string' },
  specials: { type: 'string' },
  'allow-other-characters': { type: 'string' },
  'forbid-username': { type: 'string' },
  'history-depth': { type: 'string' },
  'generated-length': { type: 'string' },
  blocklist: { type: 'string' },
  'admins-choose-passwords': { type: 'string' },
  'temporary-password-lifetime': { type: 'string' },
} as const;

type PolicyValues = { [K in keyof typeof POLICY_OPTIONS]?: string | undefined };

async function existingRealm(deps: Runtime['deps'], realmId: string): Promise<Realm> {
  const realm = await deps.directory.getRealm(realmId);
  if (!realm) throw new UsageError(`realm ${realmId} does not exist`, false);
  return realm;
}

/** What `realm policy show|set` print: the rules in force and the realm's password options. */
function passwordSettings(realm: Realm) {
  const seconds = realm.temporaryPasswordLifetimeSeconds;
  return {
    realmId: realm.realmId,
    preset: typeof realm.policy === 'string' ? realm.policy : null,
    policy: resolvePolicy(realm.policy),
    adminsChoosePasswords: realm.adminsChoosePasswords !== false,
    temporaryPasswordLifetimeSeconds: seconds,
    temporaryPasswordLifetime: seconds % 86_400 === 0 ? `${seconds / 86_400}d` : `${seconds / 3600}h`,
  };
}

/** The realm with the policy and options `values` ask for; a usage error, before any write, if any is bad. */
function changedRealm(realm: Realm, values: PolicyValues): Realm {
  let base: PasswordPolicy = resolvePolicy(realm.policy);
  if (values.preset !== undefined) {
    if (!POLICY_PRESET_NAMES.includes(values.preset as PolicyPresetName)) {
      throw new UsageError(`unknown policy preset ${values.preset}`);
    }
    base = POLICY_PRESETS[values.preset as PolicyPresetName];
  }
  const changes: Partial<PasswordPolicy> = {};
  const whole = (flag: keyof PolicyValues, field: keyof PasswordPolicy) => {
    const value = values[flag];
    if (value === undefined) return;
    if (!/^(0|[1-9][0-9]{0,3})$/.test(value)) throw new UsageError(`--${flag} must be a whole number`);
    Object.assign(changes, { [field]: Number(value) });
  };
  whole('min-length', 'minLength');
  whole('max-length', 'maxLength');
  whole('min-classes', 'minClasses');
  whole('history-depth', 'historyDepth');
  whole('generated-length', 'generatedLength');
  if (values.required !== undefined) {
    changes.required = values.required === 'none' ? [] : (values.required.split(',') as CharacterClass[]);
  }
  if (values.specials !== undefined) changes.specials = values.specials;
  const flags = [
    ['allow-other-characters', 'allowOtherCharacters'],
    ['forbid-username', 'forbidUsername'],
    ['blocklist', 'blocklist'],
  ] as const;
  for (const [flag, field] of flags) {
    const value = booleanOption(values[flag], `--${flag}`);
    if (value !== undefined) changes[field] = value;
  }
  if (values.name !== undefined) changes.name = values.name;
  const own = Object.keys(changes).length > 0;
  // A new own policy is named `custom` unless --name says otherwise; an own policy keeps its name.
  const ownName = values.preset !== undefined || typeof realm.policy === 'string' ? 'custom' : base.name;
  const policy: PasswordPolicy = own ? { ...base, name: ownName, ...changes } : base;
  const problems = policyProblems(policy);
  if (problems.length > 0) throw new UsageError(`the policy is not valid: ${problems.join('; ')}`);
  const adminsChoose = booleanOption(values['admins-choose-passwords'], '--admins-choose-passwords');
  const lifetime = lifetimeOption(values['temporary-password-lifetime']);
  const preset = values.preset as PolicyPresetName | undefined;
  return {
    ...realm,
    // A preset named and nothing changed stays a reference to the preset; anything else is the realm's own.
    policy: own ? policy : (preset ?? realm.policy),
    ...(adminsChoose !== undefined ? { adminsChoosePasswords: adminsChoose } : {}),
    ...(lifetime !== undefined ? { temporaryPasswordLifetimeSeconds: lifetime } : {}),
  };
}

/** `true` or `false`, nothing else; undefined when the option is absent. */
function booleanOption(value: string | undefined, flag: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new UsageError(`${flag} must be true or false`);
}

/**
 * A temporary-password lifetime, `24h` or `7d`: whole hours or days from 1h to 90d, in seconds.
 * Cognito allows only whole days; a 24-hour (or 4-hour) flow is a realm option here.
 */
export function lifetimeOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^([1-9][0-9]{0,4})(h|d)$/.exec(value);
  const seconds = match ? Number(match[1]) * (match[2] === 'h' ? 3600 : 86_400) : Number.NaN;
  if (
    !(
      seconds >= MIN_TEMPORARY_PASSWORD_LIFETIME_SECONDS && seconds <= MAX_TEMPORARY_PASSWORD_LIFETIME_SECONDS
    )
  ) {
    throw new UsageError(
      '--temporary-password-lifetime must be whole hours or days from 1h to 90d, like 24h or 7d',
    );
  }
  return seconds;
}

function describe(error: unknown): string {
  if (error instanceof SecretNotFoundError) return `${error.message}`;
  if (error instanceof RekeyError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
