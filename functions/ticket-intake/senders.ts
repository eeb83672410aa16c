/**
 * Who sent a ticket: each kind of system proves it the way it can.
 * - Zendesk signs every webhook request: `X-Zendesk-Webhook-Signature` is
 *   base64(HMAC-SHA256(secret, timestamp + body)), the timestamp in
 *   `X-Zendesk-Webhook-Signature-Timestamp` (https://developer.zendesk.com/documentation/webhooks/verifying/).
 *   A timestamp more than five minutes from now is refused, so a captured request replays
 *   for five minutes at most (and the worker resets once per ticket anyway).
 * - Jira Automation's "Send web request" and a ServiceNow REST message can send custom
 *   headers, not sign: the connector's secret travels in `X-Rekey-Connector-Secret`, over
 *   TLS, and is compared in constant time.
 * Every failure is the same NotAuthenticatedError for the caller; only the log line (for
 * operators) says which check failed, and never what was sent.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { NotAuthenticatedError } from '#core/errors.ts';
import {
  type ConnectorKind,
  SECRET_HEADER,
  SIGNATURE_TOLERANCE_SECONDS,
  ZENDESK_SIGNATURE_HEADER,
  ZENDESK_TIMESTAMP_HEADER,
} from '#functions/ticketing/connectors.ts';

/** Why a sender was refused, for the operator's log line. */
export type SenderProblem = 'missing' | 'stale' | 'mismatch';

export class SenderRefusedError extends NotAuthenticatedError {
  constructor(readonly problem: SenderProblem) {
    super("The request is not signed or authenticated with this connector's secret.", {
      reason: 'Sender',
    });
  }
}

/** Constant-time equality of two strings of any lengths (both hashed to 32 bytes first). */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** Zendesk's signature of `body` at `timestamp`. */
export function zendeskSignature(secret: string, timestamp: string, body: Buffer | string): string {
  return createHmac('sha256', secret).update(timestamp).update(body).digest('base64');
}

/**
 * A Zendesk timestamp in milliseconds: ISO 8601 as Zendesk sends it (`2021-06-21T20:29:30Z`),
 * or epoch seconds. NaN when it is neither.
 */
function timestampMs(text: string): number {
  if (/^\d{9,11}$/.test(text)) return Number(text) * 1000;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(text)) return Number.NaN;
  return Date.parse(text);
}

/** Throws a SenderRefusedError unless the request's headers prove the connector's system sent `body`. */
export function verifySender(
  kind: ConnectorKind,
  secret: string,
  headers: Readonly<Record<string, string | undefined>>,
  body: Buffer,
  now: Date,
): void {
  if (kind === 'zendesk') {
    const signature = headers[ZENDESK_SIGNATURE_HEADER];
    const timestamp = headers[ZENDESK_TIMESTAMP_HEADER];
    if (!signature || !timestamp) throw new SenderRefusedError('missing');
    const at = timestampMs(timestamp);
    if (!Number.isFinite(at) || Math.abs(now.getTime() - at) > SIGNATURE_TOLERANCE_SECONDS * 1000) {
      throw new SenderRefusedError('stale');
    }
    if (!sameSecret(signature, zendeskSignature(secret, timestamp, body))) {
      throw new SenderRefusedError('mismatch');
    }
    return;
  }
  const given = headers[SECRET_HEADER];
  if (!given) throw new SenderRefusedError('missing');
  if (!sameSecret(given, secret)) throw new SenderRefusedError('mismatch');
}
