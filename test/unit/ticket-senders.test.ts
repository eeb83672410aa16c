/**
 * Sender verification of the ticket intake (functions/ticket-intake/senders.ts), per kind.
 * Zendesk: base64(HMAC-SHA256(secret, timestamp + body)) in X-Zendesk-Webhook-Signature, the
 * timestamp in X-Zendesk-Webhook-Signature-Timestamp
 * (https://developer.zendesk.com/documentation/webhooks/verifying/); the secret below is the one
 * Zendesk documents for its test requests, the expected signature computed independently with
 * `openssl dgst -sha256 -hmac … -binary | base64`. Jira Automation's "Send web request"
 * (https://support.atlassian.com/cloud-automation/docs/jira-automation-actions/#Send-web-request)
 * and ServiceNow REST messages send a header instead.
 */
import { describe, expect, it } from 'vitest';
import {
  SenderRefusedError,
  sameSecret,
  verifySender,
  zendeskSignature,
} from '#functions/ticket-intake/senders.ts';

const SECRET = 'dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3RpbmdfcHVycG9zZXNfb25seQ==';
const TIMESTAMP = '2026-12-04T18:00:00Z';
const BODY = '{"ticketId":"1","operation":"ResetRandomPassword","user":"bob"}';
const SIGNATURE = 'Y/jHzI3wfEmhXqCtTojUSLRTG+1az6hnNhYDWyBIT+M=';
const NOW = new Date(TIMESTAMP);

const zendesk = (headers: Record<string, string>, now = NOW, body = BODY) =>
  verifySender('zendesk', SECRET, headers, Buffer.from(body), now);
const problemOf = (run: () => void) => {
  try {
    run();
  } catch (error) {
    if (error instanceof SenderRefusedError) return error.problem;
    throw error;
  }
  return 'accepted';
};
const signed = {
  'x-zendesk-webhook-signature': SIGNATURE,
  'x-zendesk-webhook-signature-timestamp': TIMESTAMP,
};

describe('Zendesk webhook signatures', () => {
  it('are base64(HMAC-SHA256(secret, timestamp + body)), as openssl computes them', () => {
    expect(zendeskSignature(SECRET, TIMESTAMP, BODY)).toBe(SIGNATURE);
    expect(problemOf(() => zendesk(signed))).toBe('accepted');
  });

  it('accept a timestamp up to 5 minutes off, either way, and refuse one a second beyond', () => {
    const at = (ms: number) => new Date(NOW.getTime() + ms);
    expect(problemOf(() => zendesk(signed, at(5 * 60_000)))).toBe('accepted');
    expect(problemOf(() => zendesk(signed, at(-5 * 60_000)))).toBe('accepted');
    expect(problemOf(() => zendesk(signed, at(5 * 60_000 + 1000)))).toBe('stale');
    expect(problemOf(() => zendesk(signed, at(-5 * 60_000 - 1000)))).toBe('stale');
  });

  it.each([
    ['no signature', { 'x-zendesk-webhook-signature-timestamp': TIMESTAMP }, 'missing'],
    ['no timestamp', { 'x-zendesk-webhook-signature': SIGNATURE }, 'missing'],
    ['an empty signature', { ...signed, 'x-zendesk-webhook-signature': '' }, 'missing'],
    [
      'the signature in hex',
      { ...signed, 'x-zendesk-webhook-signature': Buffer.from(SIGNATURE, 'base64').toString('hex') },
      'mismatch',
    ],
    [
      'another timestamp, same instant',
      { ...signed, 'x-zendesk-webhook-signature-timestamp': '2026-12-04T18:00:00.000Z' },
      'mismatch',
    ],
    [
      'a timestamp that is not a time',
      { ...signed, 'x-zendesk-webhook-signature-timestamp': 'now' },
      'stale',
    ],
    [
      'a signature one character off',
      { ...signed, 'x-zendesk-webhook-signature': SIGNATURE.replace('Y/', 'Z/') },
      'mismatch',
    ],
  ])('refuse %s (%s)', (_what, headers, problem) => {
    expect(problemOf(() => zendesk(headers as Record<string, string>))).toBe(problem);
  });

  it('refuse a body changed by one byte', () => {
    expect(problemOf(() => zendesk(signed, NOW, BODY.replace('bob', 'bot')))).toBe('mismatch');
    expect(problemOf(() => zendesk(signed, NOW, `${BODY} `))).toBe('mismatch');
  });
});

describe('the secret header (Jira, ServiceNow)', () => {
  const header = (value: string | undefined) =>
    value === undefined ? {} : { 'x-rekey-connector-secret': value };
  it.each([
    ['the secret', SECRET, 'accepted'],
    ['no header', undefined, 'missing'],
    ['an empty header', '', 'missing'],
    ['a prefix of the secret', SECRET.slice(0, -1), 'mismatch'],
    ['the secret and more', `${SECRET}x`, 'mismatch'],
    ['another case', SECRET.toLowerCase(), 'mismatch'],
  ])('%s: %s', (_what, value, outcome) => {
    for (const kind of ['jira', 'servicenow'] as const) {
      expect(problemOf(() => verifySender(kind, SECRET, header(value), Buffer.from(BODY), NOW))).toBe(
        outcome,
      );
    }
  });

  it('compares in constant time whatever the lengths (hashes first), and exactly', () => {
    expect(sameSecret('a', 'a')).toBe(true);
    expect(sameSecret('a', 'ab')).toBe(false);
    expect(sameSecret('', 'x'.repeat(1000))).toBe(false);
  });

  it('is not a way around a Zendesk connector’s signature', () => {
    expect(problemOf(() => verifySender('zendesk', SECRET, header(SECRET), Buffer.from(BODY), NOW))).toBe(
      'missing',
    );
  });
});
