/**
 * ReDoS and parser-cost probes: every pattern and parser a request meets before anything is
 * read or hashed gets adversarial input as large as a request may be (16 KiB, the functions'
 * body cap; query strings and path ids are smaller still), and must answer in under 10 ms.
 * Each probe is timed five times and the fastest run counts (the machine is shared; a
 * catastrophic pattern is slow every time, by orders of magnitude).
 */
import { describe, expect, it } from 'vitest';
import { changePasswordRequest } from '#functions/change-password/schema.ts';
import { uiPasswordRequest } from '#functions/create-or-reset-ui-password/schema.ts';
import { manageDdmAdminRequest } from '#functions/manage-ddm-admin/schema.ts';
import { randomPasswordQuery } from '#functions/reset-random-password/schema.ts';
import { resetUserPasswordRequest } from '#functions/reset-user-password/schema.ts';
import { tokenOf } from '#functions/token-authorizer/authorizer.ts';
import { assertPlainJson } from '#http/json.ts';
import { type HttpEvent, MAX_BODY_BYTES, parseInput, queryParameters } from '#http/request.ts';

const SIZE = MAX_BODY_BYTES;
const LIMIT_MS = 10;

/** The fastest of five runs, in milliseconds; throwing is fine (a refusal is the usual answer). */
function fastest(run: () => unknown): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    try {
      run();
    } catch {
      // refused: what matters is how long it took
    }
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

/** Strings that make backtracking patterns work hardest: long runs ending in a mismatch. */
function adversarial(unit: string): string {
  const run = unit.repeat(Math.ceil(SIZE / unit.length)).slice(0, SIZE - 1);
  return `${run}\u0000`;
}

const UNITS = [
  'a',
  ' ',
  '\t',
  '.',
  '-',
  '_',
  'a.',
  'a-',
  '..',
  'email,',
  'e',
  ',',
  '\u0301',
  '\uff41',
  '%',
  '%2',
  'A1!',
];

describe('control: the probe can fail', () => {
  it('times a catastrophic pattern well over 10 ms on a short input', () => {
    const catastrophic = /^(a+)+$/;
    expect(fastest(() => catastrophic.test(`${'a'.repeat(24)}!`))).toBeGreaterThan(LIMIT_MS);
  });
});

describe('request patterns answer adversarial input in under 10 ms', () => {
  const probes: Array<[string, (text: string) => unknown]> = [
    [
      'a username (NFKC, control and space patterns)',
      (text) => parseInput(changePasswordRequest, { username: text, currentPassword: 'x', newPassword: 'y' }),
    ],
    [
      'a password (never-allowed characters)',
      (text) =>
        parseInput(changePasswordRequest, { username: 'alice', currentPassword: text, newPassword: 'y' }),
    ],
    ['a user id (id pattern)', (text) => parseInput(uiPasswordRequest, { userId: text })],
    [
      'an opc-retry-token',
      (text) => parseInput(uiPasswordRequest, { userId: 'u-alice', 'opc-retry-token': text }),
    ],
    ['a notification_type', (text) => parseInput(randomPasswordQuery, { notification_type: text })],
    [
      'a DDM administrator name',
      (text) =>
        parseInput(manageDdmAdminRequest, {
          project_id: 'p',
          instance_id: 'i',
          body: { name: text, password: 'x' },
        }),
    ],
    [
      'a CloudSSO boolean and ids',
      (text) =>
        parseInput(resetUserPasswordRequest, {
          DirectoryId: text,
          UserId: text,
          GenerateRandomPassword: text,
        }),
    ],
    ['a query string', (text) => queryParameters({ rawQueryString: text } as HttpEvent)],
    [
      'a query string of pairs',
      (text) =>
        queryParameters({ rawQueryString: text.replaceAll('\u0000', '').split('').join('&') } as HttpEvent),
    ],
    ['a bearer token header', (text) => tokenOf({ authorization: `Bearer ${text}` })],
    ['a JSON string value', (text) => assertPlainJson(JSON.stringify({ a: text }))],
  ];

  for (const [what, probe] of probes) {
    it(what, () => {
      for (const unit of UNITS) {
        const text = adversarial(unit);
        expect(
          fastest(() => probe(text)),
          `${what}, runs of ${JSON.stringify(unit)}`,
        ).toBeLessThan(LIMIT_MS);
      }
    });
  }

  it('JSON bodies built to stress the key scanner', () => {
    const bodies: Array<[string, string]> = [
      ['many keys', `{${Array.from({ length: 1500 }, (_, i) => `"k${i}":1`).join(',')}}`],
      ['escaped backslashes', `{"a":"${'\\\\'.repeat(SIZE / 2 - 8)}"}`],
      ['escaped quotes', `{"a":"${'\\"'.repeat(SIZE / 2 - 8)}"}`],
      ['an unterminated string', `{"a":"${'x'.repeat(SIZE - 8)}`],
      [
        'brackets within the depth cap, repeated',
        `[${Array.from({ length: 500 }, () => '[[[[[[[[]]]]]]]]').join(',')}]`,
      ],
      ['depth over the cap', `${'['.repeat(SIZE / 2)}${']'.repeat(SIZE / 2)}`],
    ];
    for (const [what, body] of bodies) {
      expect(body.length).toBeLessThanOrEqual(SIZE + 16);
      expect(
        fastest(() => assertPlainJson(body)),
        what,
      ).toBeLessThan(LIMIT_MS);
    }
  });
});
