/**
 * The common-password blocklist's cost (issue 13), measured as a deployed function pays it:
 * functions/adapters/blocklist.ts is bundled by esbuild into a temporary folder with the
 * build's artifact beside it (as the CDK bundling ships it), and a fresh `node` per run
 * imports the bundle and makes its first check, timed inside the process. Then, in this
 * process, the lookup itself: a median over batches of checks of random passwords, half of
 * them list entries. Memory is what opening the list adds to the process (RSS, and the
 * ArrayBuffers: the index and one bucket, never the whole list).
 *
 * Runs alone with `npx tsx bench/blocklist.ts`; `npm run bench` prints it with the rest.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildSync } from 'esbuild';
import { fileBlocklist } from '../functions/adapters/blocklist.ts';
import {
  BLOCKLIST_ARTIFACT,
  BLOCKLIST_ASSET_NAME,
  PROJECT_ROOT,
} from '../infra/constructs/lambda-bundling.ts';
import { median, table } from './stats.ts';

export interface BlocklistCost {
  entries: number;
  artifactKb: number;
  /** Median ms of one check, lookups warm. */
  lookupMs: number;
  /** Median ms a fresh process spends importing the reader and making its first check. */
  firstUseMs: number;
  /** Median ms of the same import without the first check (the reader alone). */
  importOnlyMs: number;
  /** Median ms of the first check alone: finding, reading and viewing the artifact, one lookup. */
  firstCheckMs: number;
  rssMb: number;
  arrayBuffersMb: number;
}

const PROBE = `
const t0 = performance.now();
const { fileBlocklist } = await import(process.argv[2]);
const list = fileBlocklist();
const t1 = performance.now();
const before = process.memoryUsage();
const firstUse = process.argv[3] === 'check';
if (firstUse) list.has('Tr0ub4dor&3-correct');
const t2 = performance.now();
const after = process.memoryUsage();
console.log(JSON.stringify({
  importMs: t1 - t0,
  firstUseMs: t2 - t0,
  firstCheckMs: t2 - t1,
  rss: after.rss - before.rss,
  arrayBuffers: after.arrayBuffers - before.arrayBuffers,
}));
`;

export function measureBlocklist(runs: number): BlocklistCost {
  const dir = mkdtempSync(join(tmpdir(), 'rekey-blocklist-bench-'));
  try {
    buildSync({
      entryPoints: [join(PROJECT_ROOT, 'functions', 'adapters', 'blocklist.ts')],
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node22',
      minify: true,
      outfile: join(dir, 'index.mjs'),
      logLevel: 'warning',
    });
    cpSync(BLOCKLIST_ARTIFACT, join(dir, BLOCKLIST_ASSET_NAME));
    writeFileSync(join(dir, 'probe.mjs'), PROBE);
    const probe = (mode: 'check' | 'import') => {
      const out = spawnSync(process.execPath, [join(dir, 'probe.mjs'), join(dir, 'index.mjs'), mode], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '' },
      });
      if (out.status !== 0) throw new Error(`blocklist probe failed: ${out.stderr}`);
      return JSON.parse(out.stdout) as {
        importMs: number;
        firstUseMs: number;
        firstCheckMs: number;
        rss: number;
        arrayBuffers: number;
      };
    };
    const checks: ReturnType<typeof probe>[] = [];
    const imports: ReturnType<typeof probe>[] = [];
    // Interleaved, so a noisy neighbour weighs on both alike.
    for (let i = 0; i < runs; i++) {
      checks.push(probe('check'));
      imports.push(probe('import'));
    }
    const list = fileBlocklist(() => [BLOCKLIST_ARTIFACT]);
    const entries = list.size;
    const samples = lookupSamples(list);
    return {
      entries,
      artifactKb: statSync(BLOCKLIST_ARTIFACT).size / 1024,
      lookupMs: median(samples),
      firstUseMs: median(checks.map((c) => c.firstUseMs)),
      importOnlyMs: median(imports.map((c) => c.importMs)),
      firstCheckMs: median(checks.map((c) => c.firstCheckMs)),
      rssMb: median(checks.map((c) => c.rss)) / 2 ** 20,
      arrayBuffersMb: median(checks.map((c) => c.arrayBuffers)) / 2 ** 20,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Per-check times, each the mean over a batch of 1000 checks (a single check is below the timer's grain). */
function lookupSamples(list: { has(password: string): boolean }): number[] {
  const listed = ['password', 'iloveyou', 'qwertyuiop', '123456789987654321', 'Dragon', 'monkey123'];
  const batch = Array.from({ length: 1000 }, (_, i) =>
    i % 2 === 0 ? (listed[i % listed.length] as string) : randomBytes(12).toString('base64'),
  );
  for (const p of batch) list.has(p); // warm
  const samples: number[] = [];
  for (let round = 0; round < 200; round++) {
    const t0 = performance.now();
    for (const p of batch) list.has(p);
    samples.push((performance.now() - t0) / batch.length);
  }
  return samples;
}

export function formatBlocklist(cost: BlocklistCost): string {
  return table(
    ['figure', 'value', 'goal', 'met'],
    [
      [
        'distinct entries (NFKC, lower case)',
        cost.entries,
        '≥ 400 000',
        cost.entries >= 400_000 ? 'yes' : 'NO',
      ],
      ['artifact size (KB)', cost.artifactKb.toFixed(0), 'reported', '-'],
      ['lookup, median (ms)', cost.lookupMs.toFixed(4), '≤ 0.05', cost.lookupMs <= 0.05 ? 'yes' : 'NO'],
      [
        'first check in a fresh node: open the artifact, read its index, one lookup (ms)',
        cost.firstCheckMs.toFixed(1),
        '≤ 10',
        cost.firstCheckMs <= 10 ? 'yes' : 'NO',
      ],
      [
        '(import of the reader bundle alone, node:crypto/fs/os included) (ms)',
        cost.importOnlyMs.toFixed(1),
        '-',
        '-',
      ],
      ['(import of the reader + first check) (ms)', cost.firstUseMs.toFixed(1), '-', '-'],
      [
        'memory the loaded list adds: RSS (MB)',
        cost.rssMb.toFixed(1),
        '≤ 16',
        cost.rssMb <= 16 ? 'yes' : 'NO',
      ],
      ['(of which ArrayBuffers) (MB)', cost.arrayBuffersMb.toFixed(1), '-', '-'],
    ],
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const runs = Number(process.env.BENCH_RUNS ?? 15);
  console.log(`## Common-password blocklist — node ${process.version}, ${runs} fresh processes, medians\n`);
  console.log(formatBlocklist(measureBlocklist(runs)));
}
