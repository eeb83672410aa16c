/**
 * Issue 14 (burst investigation): what the `observe` hook adds to one request, piece by piece,
 * in-process — the metrics' count + flush (one EMF document, Powertools' Console on stdout)
 * and the local audit trail's append of one record to audit.jsonl — medians of many calls.
 * `npx tsx bench/observe-overhead.ts > /dev/null` (stdout takes the EMF lines; BENCH_CALLS,
 * default 3000).
 */
import '../infra/local/node-warnings.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEntry } from '#adapters/audit.ts';
import { createMetrics } from '#adapters/metrics.ts';
import { METRIC } from '#functions/contracts.ts';
import { LocalFileAuditTrail } from '#infra/local/event-bus.ts';

const CALLS = Number(process.env.BENCH_CALLS ?? 3000);
const metrics = createMetrics('create-or-reset-ui-password');
const audit = new LocalFileAuditTrail(join(mkdtempSync(join(tmpdir(), 'rekey-observe-')), 'audit.jsonl'));
const entry: AuditEntry = {
  operation: 'create-or-reset-ui-password',
  activity: 'reset',
  requestId: 'bench-request',
  actor: { kind: 'admin', subject: 'bench-admin', realmId: 'bench-realm' },
  target: { realmId: 'bench-realm', userId: 'u-bench' },
  origin: { kind: 'http', route: 'POST /20160918/users/{userId}/uiPassword', sourceIp: '127.0.0.1' },
  outcome: { ok: false, refused: true, code: 'Conflict', status: 409 },
  time: new Date(),
};

const pieces: [string, () => Promise<void> | void][] = [
  [
    'metrics: count + flush (one EMF document)',
    () => {
      metrics.count(METRIC.refused, { operation: 'create-or-reset-ui-password', code: 'Conflict' });
      metrics.flush();
    },
  ],
  ['audit: local record appended to audit.jsonl', async () => void (await audit.record(entry))],
];

for (const [label, call] of pieces) {
  const times: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const start = performance.now();
    await call();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)] ?? Number.NaN;
  const p99 = times[Math.floor(times.length * 0.99)] ?? Number.NaN;
  process.stderr.write(
    `${label}: median ${(median * 1000).toFixed(1)} µs, p99 ${(p99 * 1000).toFixed(1)} µs\n`,
  );
}
