/**
 * Issue 14: what Powertools (Metrics, Logger, Tracer) and the audit sink's EventBridge client
 * add to a cold start, side by side with the two-clients floor: each bundled with the
 * functions' own esbuild options, imported in fresh Node processes, runs interleaved,
 * medians. `npx tsx bench/powertools-import.ts` (BENCH_RUNS, default 15).
 */
import '../infra/local/node-warnings.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleLikeTheFunctions, loadTimesMs } from './bundles.ts';
import { table } from './stats.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const dir = mkdtempSync(join(tmpdir(), 'rekey-powertools-'));
const entries = [
  ['floor: DynamoDB + Secrets Manager clients', 'bench/sdk-floor.ts'],
  ['floor + Powertools Metrics', 'bench/powertools/floor-metrics.ts'],
  ['floor + EventBridge client (audit sink)', 'bench/powertools/floor-eventbridge.ts'],
  ['floor + Powertools Logger', 'bench/powertools/floor-logger.ts'],
  ['floor + Powertools Tracer (X-Ray), both clients captured', 'bench/powertools/floor-tracer.ts'],
] as const;
const built = entries.map(([name, entry], i) => ({
  name,
  ...bundleLikeTheFunctions(entry, join(dir, `${i}.mjs`)),
}));
const times = loadTimesMs(
  built.map(({ file }) => ({ file })),
  RUNS,
);
const floor = times[0] ?? Number.NaN;
console.log(`Powertools import cost — node ${process.version}, ${RUNS} interleaved runs, medians\n`);
console.log(
  table(
    ['bundle', 'KB (minified)', 'import (ms)', 'over the floor (ms)', '× floor'],
    built.map((b, i) => {
      const ms = times[i] ?? Number.NaN;
      return [b.name, b.kb.toFixed(1), ms.toFixed(1), (ms - floor).toFixed(1), (ms / floor).toFixed(2)];
    }),
  ),
);
