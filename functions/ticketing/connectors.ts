/**
 * Ticketing connectors: one ticketing system bound to one realm. What a connector is, where
 * its secrets live, and the one API call each kind of system documents for a private note on
 * a ticket. The ticket intake, the CLI, the local deliverer and the CDK stacks all read this
 * module, so the path, the method and the body a note travels in are written once.
 * Plain data and pure functions: Lambda bundles and the stacks both load it.
 */
import { CONNECTOR_SOURCE_PREFIX } from '../contracts.ts';

/** The ticketing systems rekey speaks to. */
export const CONNECTOR_KINDS = ['zendesk', 'jira', 'servicenow'] as const;
export type ConnectorKind = (typeof CONNECTOR_KINDS)[number];

/**
 * A connector id: lower-case letters, digits and `-`, 1–48 characters, starting with a letter
 * or digit. It is a path segment, a table key, a secret name, an event source and (in the
 * stacks) part of construct ids, so it is narrower than a user id.
 */
export const CONNECTOR_ID = /^[a-z0-9][a-z0-9-]{0,47}$/;

/** A ServiceNow table name (`incident`, `sc_req_item`, `x_acme_ticket`). */
export const SERVICENOW_TABLE = /^[a-z][a-z0-9_]{0,79}$/;

/** What the table holds for a connector: no secret, ever. */
export interface Connector {
  connectorId: string;
  kind: ConnectorKind;
  /** The realm every ticket of this connector acts in. */
  realmId: string;
  /** The system's base URL, e.g. `https://acme.zendesk.com` (https, no path). */
  replyUrl: string;
  /** ServiceNow only: the table of the records its tickets name by sys_id (default `incident`). */
  table?: string;
  createdAt: string;
}

/** The vault names of a connector's two secrets, under the connector prefix (SECRET_PREFIXES.connector). */
export function connectorSecretNames(prefix: string, connectorId: string) {
  return {
    /** What the system signs with (Zendesk) or sends in a header (Jira, ServiceNow). */
    inbound: `${prefix}${connectorId}/inbound`,
    /** Locally, the Authorization header value the deliverer sends to the system's API. */
    reply: `${prefix}${connectorId}/reply`,
  };
}

/** The intake path of a connector (the route `POST /tickets/{connectorId}`). */
export function intakePath(connectorId: string): string {
  return `/tickets/${connectorId}`;
}

/** The event source of a connector's requests. */
export function connectorSource(connectorId: string): string {
  return `${CONNECTOR_SOURCE_PREFIX}${connectorId}`;
}

/** The connector id of a request's event source, if it came through the intake. */
export function connectorIdOfSource(source: string): string | undefined {
  if (!source.startsWith(CONNECTOR_SOURCE_PREFIX)) return undefined;
  const id = source.slice(CONNECTOR_SOURCE_PREFIX.length);
  return CONNECTOR_ID.test(id) ? id : undefined;
}

/**
 * The header Jira Automation's "Send web request" and a ServiceNow REST message send the
 * inbound secret in (compared in constant time). Zendesk signs instead.
 */
export const SECRET_HEADER = 'x-rekey-connector-secret';

/** Zendesk's signature headers (https://developer.zendesk.com/documentation/webhooks/verifying/). */
export const ZENDESK_SIGNATURE_HEADER = 'x-zendesk-webhook-signature';
export const ZENDESK_TIMESTAMP_HEADER = 'x-zendesk-webhook-signature-timestamp';

/** How old (or how far ahead) a Zendesk signature timestamp may be. */
export const SIGNATURE_TOLERANCE_SECONDS = 5 * 60;

/**
 * One documented API call that puts a private note on a ticket. `path` is relative to the
 * connector's reply URL, with `*` where the ticket id goes: an EventBridge API destination's
 * path wildcard, filled from `$.detail.ticketId`; the local deliverer fills it the same way.
 */
export interface ReplyCall {
  method: 'PUT' | 'POST' | 'PATCH';
  path: string;
  /** The JSON body carrying `note` (which may hold `<placeholders>`: they survive JSON.stringify). */
  body(note: string): string;
}

/**
 * The call of each kind:
 * - Zendesk, Update Ticket with a private comment
 *   (https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/#update-ticket);
 * - Jira Service Management, Create request comment with `public: false`, an internal comment
 *   (https://developer.atlassian.com/cloud/jira/service-desk/rest/api-group-request/#api-rest-servicedeskapi-request-issueidorkey-comment-post);
 * - ServiceNow, Table API PATCH of the record's `work_notes`
 *   (https://www.servicenow.com/docs/bundle/zurich-api-reference/page/integrate/inbound-rest/concept/c_TableAPI.html).
 */
export function replyCall(connector: Pick<Connector, 'kind' | 'table'>): ReplyCall {
  switch (connector.kind) {
    case 'zendesk':
      return {
        method: 'PUT',
        // The wildcard a whole path segment, as EventBridge's API destinations document it.
        path: '/api/v2/tickets/*',
        body: (note) => JSON.stringify({ ticket: { comment: { body: note, public: false } } }),
      };
    case 'jira':
      return {
        method: 'POST',
        path: '/rest/servicedeskapi/request/*/comment',
        body: (note) => JSON.stringify({ body: note, public: false }),
      };
    case 'servicenow':
      return {
        method: 'PATCH',
        path: `/api/now/table/${connector.table ?? 'incident'}/*`,
        body: (note) => JSON.stringify({ work_notes: note }),
      };
  }
}

/** The reply URL's rule: https (or http to a loopback address, for the local fakes), no path, no query. */
export function replyUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be a URL';
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname);
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && loopback)) {
    return 'must be an https URL (http only to a loopback address)';
  }
  if (parsed.pathname !== '/' || parsed.search || parsed.hash || parsed.username || parsed.password) {
    return 'must be the base URL alone (no path, query, fragment or credentials)';
  }
  return undefined;
}

/** The reply URL without its trailing slash. */
export function replyBase(url: string): string {
  return url.replace(/\/+$/, '');
}

/**
 * Retries of a note the system did not take (the stacks' rule targets; the local deliverer
 * tries REPLY_RETRY_ATTEMPTS + 1 times too): then the dead-letter queue and its alarm.
 */
export const REPLY_RETRY_ATTEMPTS = 5;

/** How long a note may wait for the system before it goes to the dead-letter queue (seconds). */
export const REPLY_MAX_AGE_SECONDS = 2 * 60 * 60;

/** The alarm raised when a note lands on the replies' dead-letter queue (its construct id in the stack). */
export const REPLY_ALARM_ID = 'TicketRepliesDeadLettersAlarm';
