/**
 * The route table: one row per operation, one Lambda function per row, with what the
 * operation may touch in AWS beside it. The CDK API stack and the local gateway are both built
 * from it, so they cannot disagree, and a new operation is one folder plus one row: a row
 * without its access does not compile. Plain data only (the contracts' names and string
 * literals): the local gateway loads this module, and nothing here may pull in the CDK.
 */
import type { DialectName } from '#dialects/dialect.ts';
import {
  type SecretAction,
  type SecretPrefixKind,
  type TableAction,
  TICKET_SCOPES,
  WRITABLE_PARTITIONS as WRITABLE,
} from './contracts.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteDefinition {
  /** The function's folder under `functions/` and its name's suffix. */
  operation: string;
  methods: readonly HttpMethod[];
  /** API Gateway path template. */
  path: string;
  dialect: DialectName;
  /**
   * `admin`: a verified admin token is required before the function runs. `public`: the
   * function authenticates its caller itself (a current password; a ticketing system's
   * signature or secret).
   */
  auth: 'admin' | 'public';
  /** A public route: how the function authenticates its caller (for the stack's review notes). */
  publicBecause?: string;
  /** Other methods on the path also reach the function, which answers 405 in its dialect. */
  answersOtherMethods: boolean;
  /** The seed this route implements. */
  seed: string;
  /**
   * More paths the same function serves (same access, same authorizer, same Lambda): a
   * vendor's other spelling of the operation, like Alibaba's RPC style `POST /?Action=…`.
   * The operation's handler checks what makes such a request its own (Action, Version).
   */
  alsoServes?: readonly { path: string; methods: readonly HttpMethod[] }[];
  /** What the operation's function may touch; its role gets exactly this (infra/stacks/api-stack.ts). */
  access: OperationAccess;
  /**
   * Whether the function hashes passwords: only then is the argon2id binding shipped in its
   * asset (and only then may it load it: .dependency-cruiser.cjs).
   */
  hashes: boolean;
  /**
   * Whether the function checks a password a person chose (a new password, an admin's given
   * one) against the common-password blocklist: only then is the list's artifact shipped in
   * its asset (issue 13).
   */
  checksChosenPasswords: boolean;
}

/** What an operation may touch. */
export interface OperationAccess {
  /** Table actions (reads on the whole table; writes only on `writes`). */
  table: readonly TableAction[];
  /** Partition keys (IAM StringLike patterns, WRITABLE_PARTITIONS) its PutItem/UpdateItem/DeleteItem may touch. */
  writes: readonly string[];
  /**
   * Secret actions on one prefix's secrets (SECRET_PREFIXES); `names` narrows them, as an ARN
   * pattern after the prefix (default: every secret under it).
   */
  secrets?: { prefix: SecretPrefixKind; actions: readonly SecretAction[]; names?: string };
  /** Channels it notifies on: `email` (SES, from the stack's sender), `phone` (SMS only). */
  notifies?: readonly ('email' | 'phone')[];
  /** It puts events on the rekey bus (EVENT_BUS_NAME): `events:PutEvents` on that bus alone. */
  putsEvents?: boolean;
}

/** The secret actions of an operation that issues a temporary password (and drops the one it replaces). */
const ISSUE_TEMPORARY: readonly SecretAction[] = ['CreateSecret', 'TagResource', 'DeleteSecret'];

export const ROUTES: readonly RouteDefinition[] = [
  {
    operation: 'create-or-reset-ui-password',
    checksChosenPasswords: false,
    hashes: true,
    methods: ['POST'],
    path: '/20160918/users/{userId}/uiPassword',
    dialect: 'oci',
    auth: 'admin',
    answersOtherMethods: false,
    seed: '000',
    // Idempotency records are claimed and completed with PutItem, read back with GetItem and
    // dropped on failure with DeleteItem (which also drops a replaced secret's index entry).
    access: {
      table: ['GetItem', 'PutItem', 'DeleteItem'],
      writes: [WRITABLE.idempotency('oci-ui-password'), WRITABLE.users, WRITABLE.trackedSecrets],
      secrets: { prefix: 'temporary', actions: ISSUE_TEMPORARY },
    },
  },
  {
    operation: 'reset-random-password',
    checksChosenPasswords: false,
    hashes: true,
    methods: ['GET'],
    path: '/v2/{project_id}/users/{user_id}/random-password',
    dialect: 'huawei',
    auth: 'admin',
    // Other methods reach the function, which answers 405 in Huawei's body.
    answersOtherMethods: true,
    seed: '002',
    // PutItem/DeleteItem also keep the index of live temporary secrets.
    access: {
      table: ['GetItem', 'PutItem', 'DeleteItem'],
      writes: [WRITABLE.users, WRITABLE.trackedSecrets],
      secrets: { prefix: 'temporary', actions: ISSUE_TEMPORARY },
      notifies: ['email', 'phone'],
    },
  },
  {
    operation: 'reset-user-password',
    checksChosenPasswords: true,
    hashes: true,
    methods: ['POST'],
    path: '/cloudsso/2021-05-15/ResetUserPassword',
    dialect: 'alibaba',
    auth: 'admin',
    answersOtherMethods: false,
    seed: '003',
    // What Alibaba's generated clients call (RPC style): `/` with Action=ResetUserPassword and
    // Version=2021-05-15 in the query or a form body (signature v2) or in the x-acs-action and
    // x-acs-version headers (v3). The function answers any other Action or Version with
    // InvalidAction.NotFound: it is the only operation rekey serves at `/`.
    alsoServes: [{ path: '/', methods: ['GET', 'POST'] }],
    access: {
      table: ['GetItem', 'PutItem', 'DeleteItem'],
      writes: [WRITABLE.users, WRITABLE.trackedSecrets],
      secrets: { prefix: 'temporary', actions: ISSUE_TEMPORARY },
    },
  },
  {
    operation: 'manage-ddm-admin',
    checksChosenPasswords: true,
    hashes: false,
    // The seed's URI says PUT, its own example POST: both are served.
    methods: ['PUT', 'POST'],
    path: '/v3/{project_id}/instances/{instance_id}/admin-user',
    dialect: 'huawei',
    auth: 'admin',
    answersOtherMethods: false,
    seed: '004',
    // Creates the administrator's secret once, then writes new versions of it (reading the
    // current one first, so keys a rotation function added, like `dbname`, are kept). The
    // index entry written before the secret and deleted after it is PutItem and DeleteItem.
    access: {
      table: ['GetItem', 'PutItem', 'DeleteItem'],
      writes: [WRITABLE.instances, WRITABLE.trackedSecrets],
      secrets: {
        prefix: 'database',
        actions: ['CreateSecret', 'TagResource', 'GetSecretValue', 'PutSecretValue', 'DeleteSecret'],
      },
    },
  },
  {
    operation: 'change-password',
    checksChosenPasswords: true,
    hashes: true,
    methods: ['PUT'],
    path: '/20160918/changepassword',
    dialect: 'oci',
    // The caller proves the current password; no token.
    auth: 'public',
    answersOtherMethods: false,
    seed: '001',
    // Finds the user by username (Query); deletes the temporary secret a new password replaces
    // and its index entry (DeleteItem). Writes only user records: the new credential and a
    // released attempt (PutItem), a counted failure and the refusals' ghost count
    // (UpdateItem; USER##no-such-user never lands).
    access: {
      table: ['GetItem', 'PutItem', 'UpdateItem', 'Query', 'DeleteItem'],
      writes: [WRITABLE.users, WRITABLE.trackedSecrets],
      secrets: { prefix: 'temporary', actions: ['DeleteSecret'] },
      notifies: ['email'],
    },
  },
  {
    operation: 'ticket-intake',
    hashes: false,
    // A ticket never carries a password (the intake refuses one): nothing chosen to check.
    checksChosenPasswords: false,
    methods: ['POST'],
    path: '/tickets/{connectorId}',
    dialect: 'rekey',
    // The ticketing system proves itself with the connector's secret (a signature or a header).
    auth: 'public',
    publicBecause:
      "The ticketing system proves itself with its connector's inbound secret (Zendesk's HMAC signature with a 5-minute timestamp, or a secret header compared in constant time), checked by the function; stage throttling.",
    answersOtherMethods: false,
    seed: 'issue-12',
    // Reads the connector record, the user (by id, or a username or e-mail entry: Query) and
    // the connector's inbound secret; puts the request on the bus. Writes only the record of a
    // ticket whose user the realm lacks (its refusal, answered once: claimed and completed with
    // PutItem, dropped with DeleteItem).
    access: {
      table: ['GetItem', 'Query', 'PutItem', 'DeleteItem'],
      writes: [WRITABLE.idempotency(TICKET_SCOPES.intake)],
      // The inbound secrets alone (`{id}/inbound` and the six characters Secrets Manager appends
      // to an ARN): never a reply credential a connector may keep beside it, which this
      // internet-facing function has no use for.
      secrets: { prefix: 'connector', actions: ['GetSecretValue'], names: '*/inbound-??????' },
      putsEvents: true,
    },
  },
  {
    operation: 'password-page',
    checksChosenPasswords: false,
    hashes: false,
    methods: ['GET'],
    path: '/password',
    // The page posts to change-password (seed 001): its errors speak that route's dialect.
    dialect: 'oci',
    // The end user's page: whoever holds a temporary password, no token.
    auth: 'public',
    answersOtherMethods: false,
    seed: '001',
    // Its script and style (no inline script, so the CSP forbids every inline one), and the
    // rules of a realm's policy, which read realm records only (GetItem) and write nothing.
    alsoServes: [
      { path: '/password/page.js', methods: ['GET'] },
      { path: '/password/page.css', methods: ['GET'] },
      { path: '/password/rules', methods: ['GET'] },
    ],
    access: { table: ['GetItem'], writes: [] },
  },
];

/** Every path and its methods a row serves: its own path first, then `alsoServes`. */
export function routePaths(route: Pick<RouteDefinition, 'path' | 'methods' | 'alsoServes'>): Array<{
  path: string;
  methods: readonly HttpMethod[];
}> {
  return [{ path: route.path, methods: route.methods }, ...(route.alsoServes ?? [])];
}

/** The handler module of a route, relative to the repository root. */
export function handlerEntry(route: RouteDefinition): string {
  return `functions/${route.operation}/handler.ts`;
}
