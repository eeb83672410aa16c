/**
 * Audit records of password operations (issue 14): who acted, on whom, what and with which
 * outcome, from where, under which request id — for every operation that sets, resets,
 * changes or refuses a password, whichever door it came in by (an HTTP route, a ticket).
 *
 * A record is an OCSF Account Change event (class_uid 3001; activity 3 Password Change,
 * 4 Password Reset; https://schema.ocsf.io/1.1.0/classes/account_change), so a SIEM that
 * reads OCSF takes it as it is; the fields OCSF has no place for are under `unmapped`.
 * docs/operations.md ("Audit records") documents every field.
 *
 * Records are built only from what the shared pipelines know for sure: verified claims,
 * parsed and validated ids, the dialect's error code, the route template. They never hold a
 * password, a hash, a secret value or an error message (which may repeat input); the
 * suite-wide no-plaintext check (test/support/plaintext-setup.ts) reads every record built.
 */
import { AUDIT_LINE_KEY, OCSF_ACCOUNT_CHANGE } from '#functions/contracts.ts';

/** OCSF Account Change's two activities rekey performs. */
export type AuditActivity = 'change' | 'reset';

/** What succeeded: the metric of the same name counts it. */
export type AuditSuccess = 'PasswordIssued' | 'PasswordSet' | 'PasswordChanged';

/** Who acted. */
export type AuditActor =
  /** An admin with a verified token: its subject and the realm the token acts in. */
  | { kind: 'admin'; subject: string; realmId: string }
  /** The user themselves, proving the current password (change-password). */
  | { kind: 'self' }
  /**
   * A ticket, from a connector: its id (the ticket intake's `rekey.connector.{id}`), or the
   * ticket event's `source` when a system put it on the bus directly. The ticket id is left out
   * when the request was refused before its body was read.
   */
  | { kind: 'ticket'; ticketId?: string | undefined; connector: string }
  /** An operator at the CLI. */
  | { kind: 'operator'; name: string }
  /** A caller without a verified identity (a refused request without a valid token). */
  | { kind: 'unauthenticated' };

/** Where the request came in. */
export type AuditOrigin =
  | { kind: 'http'; route: string; sourceIp?: string | undefined }
  /**
   * A ticket: from the queue (the worker), or at the ticket intake (`route`, `sourceIp`: the
   * webhook's request), where the connector is named once it is known and the ticket id only
   * once the sender is verified and the body read.
   */
  | {
      kind: 'ticket';
      ticketId?: string | undefined;
      connector?: string | undefined;
      route?: string | undefined;
      sourceIp?: string | undefined;
    }
  | { kind: 'cli'; command: string };

export type AuditOutcome =
  | { ok: true; result: AuditSuccess }
  /**
   * `refused`: the caller's request was refused (4xx, a ticket's refusal); otherwise a
   * failure on rekey's side (5xx, retried). `code` is the dialect's (or the ticket's) error
   * code, `reason` rekey's reason word; neither repeats input.
   */
  | { ok: false; refused: boolean; code: string; reason?: string | undefined; status?: number | undefined };

/** One audited operation, in rekey's words; `auditRecord` maps it onto OCSF. */
export interface AuditEntry {
  /** The operation: the route's (e.g. `reset-random-password`) or the ticket's (`ResetRandomPassword`). */
  operation: string;
  activity: AuditActivity;
  requestId: string;
  actor: AuditActor;
  /** On whom, as far as the request got before it was refused: nothing the caller sent unchecked. */
  target: { realmId?: string | undefined; userId?: string | undefined; username?: string | undefined };
  origin: AuditOrigin;
  outcome: AuditOutcome;
  /**
   * The request repeated one already answered (an OCI retry token, a ticket id): its stored
   * answer was given again and nothing ran, so no password was set, issued or refused anew.
   */
  replayed?: boolean | undefined;
  time: Date;
}

const ACTIVITY = {
  change: { id: 3, name: 'Password Change' },
  reset: { id: 4, name: 'Password Reset' },
} as const;

/** OCSF user type ids. */
const USER_TYPE = { User: 1, Admin: 2, System: 3, Other: 99 } as const;

interface OcsfUser {
  uid?: string;
  name?: string;
  domain?: string;
  type?: keyof typeof USER_TYPE;
  type_id?: number;
}

/** The `PasswordAudit` event's detail: an OCSF 1.1.0 Account Change event. */
export interface PasswordAuditRecord {
  category_uid: 3;
  category_name: 'Identity & Access Management';
  class_uid: typeof OCSF_ACCOUNT_CHANGE;
  class_name: 'Account Change';
  activity_id: 3 | 4;
  activity_name: 'Password Change' | 'Password Reset';
  type_uid: 300103 | 300104;
  type_name: string;
  /** 1 Informational (success), 2 Low (refused), 3 Medium (failed on rekey's side). */
  severity_id: 1 | 2 | 3;
  severity: 'Informational' | 'Low' | 'Medium';
  /** Epoch milliseconds. */
  time: number;
  /** 1 Success, 2 Failure. */
  status_id: 1 | 2;
  status: 'Success' | 'Failure';
  status_code?: string;
  status_detail?: string;
  message: string;
  metadata: {
    version: '1.1.0';
    product: { name: 'rekey'; vendor_name: 'rekey' };
    log_name: 'PasswordAudit';
    /** The ticket id, for records of a ticket (its attempts share it). */
    correlation_uid?: string;
  };
  actor: { user: OcsfUser; app_name?: string };
  /** On whom. */
  user: OcsfUser;
  api: { operation: string; request: { uid: string } };
  src_endpoint?: { ip: string };
  http_request?: { http_method: string; url: { path: string } };
  unmapped: {
    origin: AuditOrigin['kind'];
    route?: string;
    ticket_id?: string;
    connector?: string;
    /** Which of PasswordIssued / PasswordSet / PasswordChanged, on success. */
    result?: AuditSuccess;
    /** rekey's reason word of a refusal or failure (e.g. `PasswordPolicy`, `Federated`). */
    reason?: string;
    /** The HTTP status answered, for an HTTP request. */
    http_status?: number;
    /** The first answer given again for a repeated request: nothing ran (AuditEntry.replayed). */
    replayed?: true;
  };
}

function user(
  fields: { uid?: string | undefined; name?: string | undefined; domain?: string | undefined },
  type?: keyof typeof USER_TYPE,
): OcsfUser {
  const out: OcsfUser = {};
  if (fields.uid !== undefined) out.uid = fields.uid;
  if (fields.name !== undefined) out.name = fields.name;
  if (fields.domain !== undefined) out.domain = fields.domain;
  if (type !== undefined) {
    out.type = type;
    out.type_id = USER_TYPE[type];
  }
  return out;
}

function actorOf(entry: AuditEntry): PasswordAuditRecord['actor'] {
  const { actor, target } = entry;
  switch (actor.kind) {
    case 'admin':
      return { user: user({ uid: actor.subject, domain: actor.realmId }, 'Admin') };
    case 'self':
      return { user: user({ uid: target.userId, name: target.username, domain: target.realmId }, 'User') };
    case 'ticket':
      return { user: user({ uid: `ticket:${actor.connector}` }, 'System'), app_name: actor.connector };
    case 'operator':
      return { user: user({ uid: actor.name }, 'Admin'), app_name: 'rekey-cli' };
    case 'unauthenticated':
      return { user: user({}, 'Other') };
  }
}

/** Maps an entry onto the OCSF Account Change record that goes on the bus. */
export function auditRecord(entry: AuditEntry): PasswordAuditRecord {
  const activity = ACTIVITY[entry.activity];
  const { outcome, origin } = entry;
  const severity = outcome.ok
    ? ({ id: 1, name: 'Informational' } as const)
    : outcome.refused
      ? ({ id: 2, name: 'Low' } as const)
      : ({ id: 3, name: 'Medium' } as const);
  const verb = entry.activity === 'change' ? 'password change' : 'password reset';
  const record: PasswordAuditRecord = {
    category_uid: 3,
    category_name: 'Identity & Access Management',
    class_uid: OCSF_ACCOUNT_CHANGE,
    class_name: 'Account Change',
    activity_id: activity.id,
    activity_name: activity.name,
    type_uid: activity.id === 3 ? 300103 : 300104,
    type_name: `Account Change: ${activity.name}`,
    severity_id: severity.id,
    severity: severity.name,
    time: entry.time.getTime(),
    status_id: outcome.ok ? 1 : 2,
    status: outcome.ok ? 'Success' : 'Failure',
    message: entry.replayed
      ? `${verb} answered again (a repeated request: nothing changed)`
      : outcome.ok
        ? `${verb} succeeded`
        : outcome.refused
          ? `${verb} refused`
          : `${verb} failed`,
    metadata: {
      version: '1.1.0',
      product: { name: 'rekey', vendor_name: 'rekey' },
      log_name: 'PasswordAudit',
    },
    actor: actorOf(entry),
    user: user(
      { uid: entry.target.userId, name: entry.target.username, domain: entry.target.realmId },
      'User',
    ),
    api: { operation: entry.operation, request: { uid: entry.requestId } },
    unmapped: { origin: origin.kind },
  };
  if (entry.replayed) record.unmapped.replayed = true;
  if (outcome.ok) record.unmapped.result = outcome.result;
  else {
    record.status_code = outcome.code;
    if (outcome.reason !== undefined) {
      record.status_detail = outcome.reason;
      record.unmapped.reason = outcome.reason;
    }
    if (outcome.status !== undefined) record.unmapped.http_status = outcome.status;
  }
  if (origin.kind === 'http') {
    const [method = '', path = ''] = origin.route.split(' ');
    record.http_request = { http_method: method, url: { path } };
    record.unmapped.route = origin.route;
    if (origin.sourceIp) record.src_endpoint = { ip: origin.sourceIp };
  } else if (origin.kind === 'ticket') {
    if (origin.ticketId !== undefined) {
      record.metadata.correlation_uid = origin.ticketId;
      record.unmapped.ticket_id = origin.ticketId;
    }
    if (origin.connector !== undefined) record.unmapped.connector = origin.connector;
    if (origin.route !== undefined) {
      const [method = '', path = ''] = origin.route.split(' ');
      record.http_request = { http_method: method, url: { path } };
      record.unmapped.route = origin.route;
    }
    if (origin.sourceIp) record.src_endpoint = { ip: origin.sourceIp };
  } else {
    record.unmapped.route = `cli ${origin.command}`;
  }
  if (entry.actor.kind === 'ticket') record.unmapped.connector = entry.actor.connector;
  return record;
}

/**
 * Where audit records go. Recording never fails the operation it describes (the password
 * has been set, or refused, already).
 */
export abstract class AuditTrail {
  /** Maps `entry` onto its record and delivers it. Never throws. */
  async record(entry: AuditEntry): Promise<PasswordAuditRecord> {
    const record = auditRecord(entry);
    await this.deliver(record);
    return record;
  }

  protected abstract deliver(record: PasswordAuditRecord): Promise<void>;
}

/**
 * Writes each record to the function's log as one JSON line, `{"rekeyAudit": <record>}`, on
 * stdout (raw, as Powertools Metrics writes its EMF lines, so no log level or replacer can
 * drop or alter it). A subscription filter on each auditing function's log group hands these
 * lines to the audit forwarder (functions/audit-forwarder), which puts them on the rekey bus
 * as `PasswordAudit` events: the request waits for no PutEvents call, and the function loads
 * no EventBridge client (docs/decisions.md, "Audit records through the functions' logs").
 * JSON.stringify escapes every line break, so nothing a caller sends can start a line.
 */
export class LogLineAuditTrail extends AuditTrail {
  constructor(private readonly write: (line: string) => void = (line) => process.stdout.write(line)) {
    super();
  }

  protected async deliver(record: PasswordAuditRecord): Promise<void> {
    this.write(`${JSON.stringify({ [AUDIT_LINE_KEY]: record })}\n`);
  }
}

/** The audit record a log line holds, if it is one (the forwarder's side of the format above). */
export function auditRecordOfLine(line: string): PasswordAuditRecord | undefined {
  const start = line.indexOf('{');
  if (start < 0) return undefined;
  try {
    const parsed = JSON.parse(line.slice(start)) as Record<string, unknown>;
    const record = parsed[AUDIT_LINE_KEY] as PasswordAuditRecord | undefined;
    return record && typeof record === 'object' && record.class_uid === OCSF_ACCOUNT_CHANGE
      ? record
      : undefined;
  } catch {
    return undefined;
  }
}

/** Keeps records in memory (tests, tools that only read them back). */
export class MemoryAuditTrail extends AuditTrail {
  readonly records: PasswordAuditRecord[] = [];

  protected async deliver(record: PasswordAuditRecord): Promise<void> {
    this.records.push(record);
  }
}
