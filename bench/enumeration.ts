/**
 * Username enumeration by timing, on change-password: does a wrong password for a KNOWN user
 * take longer (or answer differently) than any password for an UNKNOWN user? Both must cost
 * the same work (one realm read, one argon2id verification, one conditional write) and give
 * the same 401.
 *
 * The real gateway and handlers over an in-memory embedded backend, in this process, called
 * over HTTP. The series are interleaved call by call (the order within each round alternates),
 * so the machine's drift and other people's load fall on all of them alike. A third series, a
 * locked-out user, is the other refusal that must look the same.
 *
 * Known users each get at most KNOWN_ATTEMPTS wrong passwords, below the lock-out limit (10),
 * so every "known" attempt is a counted failure: the path that writes.
 */
import { randomBytes } from 'node:crypto';
import { newRealm, newUser } from '../functions/core/factories.ts';
import { mintToken } from '../infra/local/dev-tokens.ts';
import type { LocalApi } from '../infra/local/local-api.ts';
import { startLocalApi } from '../infra/local/local-api.ts';
import { mannWhitney, median, percentile, table } from './stats.ts';

const REALM = 'enum';
const KNOWN_ATTEMPTS = 5;
const LOCK_OUT_LIMIT = 10;
const WARMUP_ROUNDS = 20;

type Series = 'known' | 'unknown' | 'locked';

interface Answer {
  status: number;
  body: string;
  headerNames: string;
}

export interface EnumerationResult {
  calls: number;
  samples: Record<Series, number[]>;
  /** Whether every answer of every series had the first answer's status and body, byte for byte. */
  identical: boolean;
  /** Whether every answer carried the same header names (values, such as request ids, differ). */
  sameHeaderNames: boolean;
  reference: { status: number; bytes: number };
}

/** `calls` interleaved change-password attempts per series, timed from request to last byte. */
export async function measureEnumeration(calls: number): Promise<EnumerationResult> {
  // The functions log every refusal; a bench prints only its tables.
  const logLevel = process.env.LOG_LEVEL;
  process.env.LOG_LEVEL = 'SILENT';
  let api: LocalApi | undefined;
  try {
    api = await startLocalApi({ persist: false });
    const url = api.gateway.url;
    const known = await seed(api, Math.ceil((calls + WARMUP_ROUNDS) / KNOWN_ATTEMPTS));

    const put = async (username: string, password: string): Promise<{ ms: number; answer: Answer }> => {
      const body = JSON.stringify({ username, currentPassword: password, newPassword: wrongPassword() });
      const started = performance.now();
      const res = await fetch(`${url}/20160918/changepassword`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body,
      });
      const text = await res.text();
      const ms = performance.now() - started;
      const headerNames = [...res.headers.keys()].sort().join(',');
      return { ms, answer: { status: res.status, body: text, headerNames } };
    };
    const attempt: Record<Series, (round: number) => Promise<{ ms: number; answer: Answer }>> = {
      known: (round) => put(known.users[round % known.users.length] as string, wrongPassword()),
      // A fresh name each time, as long as the known ones, so nothing can be cached by name.
      unknown: () => put(`enum-${randomBytes(3).toString('hex')}x`, wrongPassword()),
      locked: () => put(known.locked, wrongPassword()),
    };

    const samples: Record<Series, number[]> = { known: [], unknown: [], locked: [] };
    const answers: Answer[] = [];
    const orders: Series[][] = [
      ['known', 'unknown', 'locked'],
      ['unknown', 'locked', 'known'],
      ['locked', 'known', 'unknown'],
    ];
    for (let round = 0; round < WARMUP_ROUNDS + calls; round++) {
      for (const series of orders[round % orders.length] as Series[]) {
        const { ms, answer } = await attempt[series](round);
        if (round < WARMUP_ROUNDS) continue;
        samples[series].push(ms);
        answers.push(answer);
      }
    }
    const [first] = answers;
    return {
      calls,
      samples,
      identical: answers.every((a) => a.status === first?.status && a.body === first.body),
      sameHeaderNames: answers.every((a) => a.headerNames === first?.headerNames),
      reference: { status: first?.status ?? 0, bytes: Buffer.byteLength(first?.body ?? '') },
    };
  } finally {
    await api?.close();
    if (logLevel === undefined) delete process.env.LOG_LEVEL;
    else process.env.LOG_LEVEL = logLevel;
  }
}

/** Passwords are random and never printed. */
function wrongPassword(): string {
  return `Wr0ng-${randomBytes(9).toString('base64url')}`;
}

/**
 * A realm, `count` users with a password (set through CloudSSO ResetUserPassword, as an admin
 * would), and one more user locked out by LOCK_OUT_LIMIT wrong attempts.
 */
async function seed(api: LocalApi, count: number): Promise<{ users: string[]; locked: string }> {
  const runtime = api.runtimes.get('reset-user-password');
  if (!runtime) throw new Error('the local API has no reset-user-password runtime');
  const { directory } = runtime.deps;
  await directory.createRealm(newRealm(REALM, 'enumcorp'));
  const token = await mintToken(api.devKey, { realmId: REALM, subject: 'bench' });
  const users = Array.from({ length: count + 1 }, (_, i) => `enum-${String(i).padStart(6, '0')}k`);
  for (const username of users) {
    const userId = `u-${username}`;
    await directory.createUser(newUser({ realmId: REALM, userId, username }));
    const res = await fetch(`${api.gateway.url}/cloudsso/2021-05-15/ResetUserPassword`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ DirectoryId: REALM, UserId: userId, Password: `Aa1#${wrongPassword()}` }),
    });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`seeding ${userId}: ResetUserPassword answered ${res.status}`);
  }
  const locked = users.pop() as string;
  for (let i = 0; i < LOCK_OUT_LIMIT; i++) {
    const res = await fetch(`${api.gateway.url}/20160918/changepassword`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        username: locked,
        currentPassword: wrongPassword(),
        newPassword: wrongPassword(),
      }),
    });
    await res.arrayBuffer();
  }
  return { users, locked };
}

/**
 * "Within noise" means the Mann-Whitney test cannot tell the two samples apart at the 5% level
 * (p ≥ 0.05): were one series systematically slower, its calls would rank above the other's
 * more often than chance allows, whatever the shape of the (long-tailed) distributions. The
 * difference of medians is shown beside the spread between the two halves (odd and even calls)
 * of the unknown-user sample itself, for scale.
 */
export function formatEnumeration(result: EnumerationResult): string {
  const { known, unknown, locked } = result.samples;
  const odd = unknown.filter((_, i) => i % 2 === 1);
  const even = unknown.filter((_, i) => i % 2 === 0);
  const spread = Math.abs(median(odd) - median(even));
  const row = (label: string, sample: number[]) => [
    label,
    String(sample.length),
    median(sample).toFixed(2),
    percentile(sample, 90).toFixed(2),
  ];
  const compare = (label: string, sample: number[]) => {
    const { z, p } = mannWhitney(sample, unknown);
    return [
      label,
      (median(sample) / median(unknown)).toFixed(3),
      (median(sample) - median(unknown)).toFixed(2),
      spread.toFixed(2),
      `z = ${z.toFixed(2)}, p = ${p.toFixed(2)}`,
      p >= 0.05 ? 'yes' : 'NO',
    ];
  };
  return [
    table(
      ['PUT /20160918/changepassword', 'calls', 'median (ms)', 'p90 (ms)'],
      [
        row('known user, wrong password', known),
        row('unknown user', unknown),
        row('known user, locked out', locked),
      ],
    ),
    '',
    table(
      [
        'compared with unknown user',
        'ratio of medians',
        'Δ medians (ms)',
        'split-half spread (ms)',
        'Mann-Whitney',
        'within noise',
      ],
      [compare('known user, wrong password', known), compare('known user, locked out', locked)],
    ),
    '',
    `Responses byte-identical (status and body) over all ${3 * result.calls} calls: ` +
      `${result.identical ? 'yes' : 'NO'} (${result.reference.status}, ${result.reference.bytes} bytes); ` +
      `same header names: ${result.sameHeaderNames ? 'yes' : 'NO'}.`,
  ].join('\n');
}
