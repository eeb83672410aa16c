/**
 * Names the deployed resources and the runtime must agree on, in one module that both the CDK
 * stacks and the functions import (infra/local and the CLI too), so that neither can drift
 * from the other: the table's attribute names and key shapes, the environment variables a
 * function reads, secret name prefixes, the event bus and its detail types, the HTTP
 * functions' timeout. Nothing here may import anything: stacks, functions and local tools all
 * load it, and a Lambda bundle must stay free of the CDK.
 */

/** The table's partition and sort key attributes. */
export const PARTITION_KEY = 'pk';
export const SORT_KEY = 'sk';

/** The attribute DynamoDB's TTL reads (epoch seconds): idempotency records and other short-lived items. */
export const TTL_ATTRIBUTE = 'ttl';
/**
 * A user item's id of the last failed sign-in counted on it (a random id per count): a retry of a
 * count whose answer was lost finds its own id there and is not counted twice. Never part of a
 * User as the code sees it.
 */
export const FAILURE_COUNT_ATTRIBUTE = 'failureCountId';

/**
 * Item keys, in one place so the directory, the sweeper, the CLI and the stacks' write grants
 * (WRITABLE_PARTITIONS below) agree.
 */
export const keys = {
  realm: (realmId: string) => ({ pk: `REALM#${realmId}`, sk: 'REALM' }),
  realmName: (name: string) => ({ pk: `REALMNAME#${name.toLowerCase()}`, sk: 'REALMNAME' }),
  user: (userId: string) => ({ pk: `USER#${userId}`, sk: 'USER' }),
  username: (username: string, realmId: string) => ({
    pk: `USERNAME#${username.toLowerCase()}`,
    sk: `REALM#${realmId}`,
  }),
  instance: (instanceId: string) => ({ pk: `INSTANCE#${instanceId}`, sk: 'INSTANCE' }),
  /**
   * A user's e-mail address in its realm (what a ticket's `user` may name). Not unique: two
   * users of a realm may share an address, and a look-up that finds both finds no one.
   */
  email: (email: string, realmId: string, userId: string) => ({
    pk: `EMAIL#${email.toLowerCase()}`,
    sk: `REALM#${realmId}#USER#${userId}`,
  }),
  /** A ticketing connector (functions/ticketing/connectors.ts); its secrets are in the vault, never here. */
  connector: (connectorId: string) => ({ pk: `CONNECTOR#${connectorId}`, sk: 'CONNECTOR' }),
  /** The index of temporary secrets: one partition, by secret name (no TTL: see trackSecret). */
  trackedSecret: (name: string) => ({ pk: 'TEMPSECRET', sk: name }),
  /** One operation's idempotency records (functions/adapters/idempotency.ts): `IDEMPOTENCY#{scope}`. */
  idempotencyPartition: (scope: string) => `IDEMPOTENCY#${scope}`,
};

/**
 * The ticketing idempotency scopes: the worker's record per ticket (its run and answer) and
 * per request that reused a ticket's id (its refusal, answered once), and the intake's per
 * ticket whose user the realm does not have (its refusal, answered once).
 */
export const TICKET_SCOPES = { ticket: 'ticket', reuse: 'ticket-reuse', intake: 'ticket-intake' } as const;

/**
 * The partition keys a function may write, as IAM `StringLike` patterns for
 * `dynamodb:LeadingKeys`, built from the key functions above so the grants and the items
 * cannot drift apart. The key design limits how narrow they can be: a user record's key
 * (`USER#{id}`), an instance's (`INSTANCE#{id}`) and the secrets index (`TEMPSECRET`) carry no
 * realm, so a grant is per kind of item, never per realm.
 */
export const WRITABLE_PARTITIONS = {
  /** User records; lock-out's never-landing ghost write (`USER##no-such-user`) is one too. */
  users: keys.user('*').pk,
  /** The one partition indexing every temporary (and DDM) secret, by secret name. */
  trackedSecrets: keys.trackedSecret('').pk,
  /** DDM instance records. */
  instances: keys.instance('*').pk,
  /** One operation's idempotency records, with the scope its handler passes (`oci-ui-password`, `ticket`). */
  idempotency: keys.idempotencyPartition,
} as const;

/** The DynamoDB actions a function may be granted, by name (no Scan, no batch, no index). */
export type TableAction = 'GetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'Query';

/** The table actions that change an item: granted per partition key (`dynamodb:LeadingKeys`). */
export const WRITE_ACTIONS: readonly TableAction[] = ['PutItem', 'UpdateItem', 'DeleteItem'];

/** The Secrets Manager actions a function may be granted on its prefix. */
export type SecretAction =
  | 'CreateSecret'
  | 'TagResource'
  | 'DeleteSecret'
  | 'GetSecretValue'
  | 'PutSecretValue';

/** The environment variables rekey's functions read, by what they hold. */
export const ENV = {
  /** The directory table's name. */
  table: 'REKEY_TABLE',
  /** Name prefix of the secrets holding generated temporary passwords. */
  temporarySecretPrefix: 'REKEY_TEMP_SECRET_PREFIX',
  /** Name prefix of the secrets holding DDM administrator credentials. */
  databaseSecretPrefix: 'REKEY_DDM_SECRET_PREFIX',
  /** The customer-managed key of the secrets a function writes (set where it may write one). */
  kmsKeyId: 'REKEY_KMS_KEY_ID',
  /** Name prefix of the ticketing connectors' secrets. */
  connectorSecretPrefix: 'REKEY_CONNECTOR_SECRET_PREFIX',
  /** The bus ticket results go back to (and the ticket intake puts requests on). */
  eventBusName: 'REKEY_EVENT_BUS_NAME',
  /** The verified SES sender of e-mail notifications. */
  emailFrom: 'REKEY_EMAIL_FROM',
  /** The token authorizer's issuer, audiences (comma-separated) and JWKS URL (optional). */
  jwtIssuer: 'REKEY_JWT_ISSUER',
  jwtAudience: 'REKEY_JWT_AUDIENCE',
  jwksUrl: 'REKEY_JWKS_URL',
  /**
   * The end user's page (`GET /password`) that notifications carrying a temporary password and
   * ticket results link to (optional: unset, no link). The stacks' `passwordPageUrl` prop.
   */
  passwordPageUrl: 'REKEY_PASSWORD_PAGE_URL',
  /** The sweeper's grace for unreferenced secrets (optional; seconds). */
  sweeperGraceSeconds: 'REKEY_SWEEPER_GRACE_SECONDS',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];

/**
 * What a function that builds the shared runtime (functions/adapters/settings.ts) cannot start
 * without: every HTTP operation, the ticket worker and the sweeper. Production fails fast,
 * naming the first one missing; the stacks set all of them (test/infra/environment.test.ts).
 */
export const RUNTIME_ENV = [ENV.table, ENV.temporarySecretPrefix, ENV.databaseSecretPrefix] as const;

/**
 * What the ticket worker needs besides the runtime's: the bus its results go on, and who
 * e-mails are from. (Audit records leave every function as log lines, not on the bus: only
 * the functions that put events read its name, through `eventBusNameFromEnv`.)
 */
export const TICKET_WORKER_ENV = [...RUNTIME_ENV, ENV.eventBusName, ENV.emailFrom] as const;

/** What the ticket intake needs besides the runtime's: the bus it puts requests on. */
export const TICKET_INTAKE_ENV = [...RUNTIME_ENV, ENV.eventBusName] as const;

/** What a notifying function needs besides the runtime's. */
export const NOTIFYING_ENV = [...RUNTIME_ENV, ENV.emailFrom] as const;

/** What the token authorizer needs (its JWKS URL defaults to the issuer's well-known one). */
export const TOKEN_AUTHORIZER_ENV = [ENV.jwtIssuer, ENV.jwtAudience] as const;

/** Name prefixes of the secrets rekey writes; IAM grants are per prefix. */
export const SECRET_PREFIXES = {
  /** Generated temporary passwords: `rekey/temp/{realm}/{user}/{request}`. */
  temporary: 'rekey/temp/',
  /** DDM administrator credentials. */
  database: 'rekey/ddm/',
  /**
   * Ticketing connectors' secrets: `rekey/connector/{id}/inbound` (what the system signs or
   * sends with) and, locally, `rekey/connector/{id}/reply` (its API credential; in AWS the
   * EventBridge connection keeps that one).
   */
  connector: 'rekey/connector/',
} as const;

export type SecretPrefixKind = keyof typeof SECRET_PREFIXES;

/** The environment variable carrying each prefix. */
export const SECRET_PREFIX_ENV: Readonly<Record<SecretPrefixKind, EnvName>> = {
  temporary: ENV.temporarySecretPrefix,
  database: ENV.databaseSecretPrefix,
  connector: ENV.connectorSecretPrefix,
};

/**
 * Tags rekey puts on the secrets it creates. The realm tag is also what the readers' policy
 * (infra/stacks/stateful-stack.ts) matches against the reader's principal tag of the same key.
 */
export const SECRET_TAGS = {
  realm: 'rekey:realm',
  user: 'rekey:user',
  expiresAt: 'rekey:expires-at',
  instance: 'rekey:instance',
} as const;

/** The event bus tickets arrive on and results go back to. */
export const EVENT_BUS_NAME = 'rekey';

/** The `source` of every event rekey puts on the bus. */
export const RESULT_SOURCE = 'rekey';

/**
 * The `source` of the requests the ticket intake puts on the bus for one connector:
 * `rekey.connector.{id}`. The worker copies the connector id into its result events, which is
 * what each connector's reply rule matches.
 */
export const CONNECTOR_SOURCE_PREFIX = 'rekey.connector.';

/**
 * Detail types on the bus: the ticketing request rekey runs, the two results it puts back,
 * and the audit record of every password operation (functions/adapters/audit.ts), which the
 * operations stack's rule keeps in the audit log group.
 */
export const DETAIL_TYPES = {
  requested: 'PasswordResetRequested',
  completed: 'PasswordResetCompleted',
  failed: 'PasswordResetFailed',
  audit: 'PasswordAudit',
} as const;

/** The CloudWatch namespace of rekey's metrics (functions/adapters/metrics.ts). */
export const METRICS_NAMESPACE = 'rekey';

/**
 * rekey's metric names, in one place so the functions and the dashboard and alarms
 * (infra/stacks/monitoring-stack.ts) agree. Dimensions: see functions/adapters/metrics.ts.
 */
export const METRIC = {
  passwordIssued: 'PasswordIssued',
  passwordChanged: 'PasswordChanged',
  passwordSet: 'PasswordSet',
  refused: 'Refused',
  failed: 'Failed',
  lockedOut: 'LockedOut',
  ticketCompleted: 'TicketCompleted',
  ticketFailed: 'TicketFailed',
  secretsSwept: 'SecretsSwept',
  orphansDeleted: 'OrphansDeleted',
  sweepCompleted: 'SweepCompleted',
  notificationSent: 'NotificationSent',
  notificationFailed: 'NotificationFailed',
  auditNotPublished: 'AuditNotPublished',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/**
 * The log group the audit rule writes every `PasswordAudit` event to (EventBridge writes only to
 * groups under `/aws/events/`), and how long it and the bus archive keep them (13 months).
 */
export const AUDIT_LOG_GROUP = '/aws/events/rekey/audit';

/**
 * The key of the one-line JSON object an auditing function writes to its log for each audit
 * record, `{"rekeyAudit": <record>}`, and the subscription filter that hands those lines to the
 * audit forwarder, which puts them on the bus (functions/adapters/audit.ts).
 */
export const AUDIT_LINE_KEY = 'rekeyAudit';
/** OCSF's Account Change class: every audit record's `class_uid`, which the filter matches. */
export const OCSF_ACCOUNT_CHANGE = 3001;
export const AUDIT_LINE_FILTER = `{ $.${AUDIT_LINE_KEY}.class_uid = ${OCSF_ACCOUNT_CHANGE} }`;
export const AUDIT_RETENTION_DAYS = 400;

/** The Lambda timeout of every HTTP function, in seconds (the local gateway enforces the same). */
export const HTTP_FUNCTION_TIMEOUT_SECONDS = 10;

/** Where the OpenAPI document is served: by the local gateway, and by API Gateway in AWS. */
export const OPENAPI_PATH = '/openapi.json';
