/**
 * Bundle size and module load time of every function, measured on the assets `cdk synth`
 * really produces. Load time is how long a fresh `node` takes to import the bundle (which
 * builds its clients and handler, as Lambda's init does), timed inside that process around
 * the `import()`: what a bare process never does. Median of interleaved runs.
 *
 * Why not the wall time of the whole process minus a bare one: on these VMs a bare `node`
 * takes 100–330 ms, and the difference of two such medians moved by 30 ms between runs for
 * the same 18 KB bundle; the in-process figure stays within a few ms. It also leaves out
 * process exit, which Lambda's init does not pay. The host's argon2 binary stands in for
 * the arm64 one.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildSync } from 'esbuild';
import { lambdaBundling } from '../infra/constructs/lambda-bundling.ts';
import { LOCAL_ENV } from '../infra/local/local-settings.ts';
import { buildRekey } from '../infra/rekey-app.ts';
import { median } from './stats.ts';

export interface BundleResult {
  name: string;
  minifiedKb: number;
  loadMs: number;
  /** The loadable copy that was timed, and the environment it loads with. */
  file: string;
  env: Record<string, string>;
}

const HOST_ARGON2 = `@node-rs/argon2-${process.platform}-${process.arch}-gnu`;

/** Synthesizes the app and returns each function's asset directory, by construct path. */
export function synthesizedAssets(): Map<string, string> {
  const outdir = mkdtempSync(join(tmpdir(), 'rekey-bench-'));
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  buildRekey(app);
  const assembly = app.synth();
  const assets = new Map<string, string>();
  for (const stack of assembly.stacks) {
    const resources = (stack.template.Resources ?? {}) as Record<
      string,
      { Type: string; Metadata?: Record<string, string> }
    >;
    for (const [logicalId, resource] of Object.entries(resources)) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const assetPath = resource.Metadata?.['aws:asset:path'];
      if (assetPath) assets.set(logicalId.replace(/Function[0-9A-F]{8}$/, ''), join(outdir, assetPath));
    }
  }
  return assets;
}

/**
 * A copy of the asset that loads on this machine: the host's argon2 binary added beside, and
 * the environment variable the stack sets on Lambda pointed at it instead.
 */
function loadableCopy(assetDir: string): { dir: string; env: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'rekey-load-'));
  cpSync(assetDir, dir, { recursive: true });
  if (!readdirSync(dir).includes('node_modules')) return { dir, env: {} };
  const target = join(dir, 'node_modules', HOST_ARGON2);
  cpSync(join('node_modules', HOST_ARGON2), target, { recursive: true });
  const binary = readdirSync(target).find((name) => name.endsWith('.node')) ?? '';
  return { dir, env: { NAPI_RS_NATIVE_LIBRARY_PATH: join(target, binary) } };
}

const LAMBDA_LIKE_ENV = {
  ...process.env,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  // What the stacks set (npm start's values): every function's settings fail fast without them.
  ...LOCAL_ENV,
  // The token authorizer's two (the stack's defaults): it fails its cold start without them.
  REKEY_JWT_ISSUER: 'https://issuer.example.com',
  REKEY_JWT_AUDIENCE: 'rekey-api',
  NODE_NO_WARNINGS: '1',
};

/** The time a fresh `node` spends importing `file`, measured inside it. */
function importMs(file: string, env: Record<string, string>): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(file)}); process.stdout.write(String(performance.now() - t));`;
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...LAMBDA_LIKE_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (out.status !== 0) throw new Error(`importing ${file} failed: ${out.stderr.toString()}`);
  return Number(out.stdout.toString());
}

/** Whether valgrind is installed (`apt-get install valgrind`): the instruction counts need it. */
export function hasValgrind(): boolean {
  return spawnSync('valgrind', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Instructions (callgrind's `Collected`) a fresh single-threaded node executes importing `file`. */
function countInstructions(file: string, env: Record<string, string>): Promise<number> {
  const script = `await import(${JSON.stringify(file)});`;
  const args = [
    '--tool=callgrind',
    '--callgrind-out-file=/dev/null',
    process.execPath,
    // Compilation and GC on the main thread, hash tables and Math.random seeded: the count of a
    // bundle repeats to within 0.01 M, where background threads alone moved it by ±10 M.
    '--single-threaded',
    '--hash-seed=1',
    '--random-seed=1',
    '--input-type=module',
    '-e',
    script,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('valgrind', args, {
      env: { ...LAMBDA_LIKE_ENV, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const collected = /Collected : (\d+)/.exec(stderr)?.[1];
      if (code !== 0 || !collected) reject(new Error(`counting ${file} failed: ${stderr.slice(-2000)}`));
      else resolve(Number(collected));
    });
  });
}

/**
 * The work of importing each file, in millions of instructions over importing an empty module:
 * a figure that does not move with the machine's load, beside the load times, which do. Counted
 * with V8 on one thread, so it is the whole CPU work of the import (compilation included), not
 * its latency. One count per file, as many at once as there are cores.
 */
export async function importWorkMillions(
  files: Array<{ file: string; env?: Record<string, string> }>,
): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'rekey-empty-'));
  const empty = join(dir, 'empty.mjs');
  writeFileSync(empty, 'export {};\n');
  const jobs = [{ file: empty, env: {} }, ...files];
  const counts: number[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      const job = jobs[i] as { file: string; env?: Record<string, string> };
      counts[i] = await countInstructions(job.file, job.env ?? {});
    }
  };
  await Promise.all(Array.from({ length: Math.min(availableParallelism(), jobs.length) }, worker));
  const [base = 0, ...rest] = counts;
  return rest.map((count) => (count - base) / 1e6);
}

/** Median time to import each file in a fresh process; runs interleaved across the files. */
export function loadTimesMs(
  files: Array<{ file: string; env?: Record<string, string> }>,
  runs: number,
): number[] {
  const samples = files.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) {
    for (const [j, { file, env }] of files.entries()) samples[j]?.push(importMs(file, env ?? {}));
  }
  return samples.map(median);
}

/**
 * Size and load time of every synthesized function, and of `extra` files measured in the
 * same interleaved runs (so a reference is measured under the same conditions).
 */
export function measureBundles(
  runs: number,
  extra: string[] = [],
): { bundles: BundleResult[]; extraMs: number[] } {
  const assets = [...synthesizedAssets()].map(([name, assetDir]) => ({
    name,
    minifiedKb: statSync(join(assetDir, 'index.mjs')).size / 1024,
    copy: loadableCopy(assetDir),
  }));
  const times = loadTimesMs(
    [
      ...assets.map(({ copy }) => ({ file: join(copy.dir, 'index.mjs'), env: copy.env })),
      ...extra.map((file) => ({ file })),
    ],
    runs,
  );
  return {
    bundles: assets.map(({ name, minifiedKb, copy }, i) => ({
      name,
      minifiedKb,
      loadMs: times[i] ?? Number.NaN,
      file: join(copy.dir, 'index.mjs'),
      env: copy.env,
    })),
    extraMs: times.slice(assets.length),
  };
}

/**
 * For comparison: the uiPassword function as CDK bundles it by default (CommonJS, not
 * minified, the SDK left external and resolved from node_modules at load).
 */
export function cdkDefaultBundle(): { file: string; kb: number } {
  const dir = mkdtempSync(join(process.cwd(), 'node_modules', '.rekey-bench-default-'));
  const out = join(dir, 'index.js');
  const build = spawnSync(
    'npx',
    [
      'esbuild',
      '--bundle',
      'functions/create-or-reset-ui-password/handler.ts',
      '--platform=node',
      '--target=node22',
      '--external:@aws-sdk/*',
      '--external:@node-rs/argon2',
      `--outfile=${out}`,
      '--log-level=error',
    ],
    { stdio: 'inherit' },
  );
  if (build.status !== 0) throw new Error('esbuild failed');
  return { file: out, kb: readFileSync(out).length / 1024 };
}

/**
 * What no rekey function can load faster than, measured alongside the functions: the two SDK
 * clients alone (bench/sdk-floor.ts), the Secrets Manager client alone (bench/sm-floor.ts: the
 * stack requires it, and every function that writes a secret builds it), each bundled with
 * the functions' own esbuild options; and a module that only imports the Node built-ins the
 * first of them imports.
 */
export function floorModules(): {
  sdk: { file: string; kb: number };
  sdkWithoutAliases: { file: string; kb: number };
  secretsManager: { file: string; kb: number };
  builtins: { file: string; names: string[] };
} {
  const dir = mkdtempSync(join(tmpdir(), 'rekey-floor-'));
  const sdk = bundleLikeTheFunctions('bench/sdk-floor.ts', join(dir, 'sdk.mjs'));
  const sdkWithoutAliases = bundleLikeTheFunctions('bench/sdk-floor.ts', join(dir, 'sdk-plain.mjs'), false);
  const secretsManager = bundleLikeTheFunctions('bench/sm-floor.ts', join(dir, 'sm.mjs'));
  const code = readFileSync(sdk.file, 'utf8');
  const names = [
    ...new Set([...code.matchAll(/(?:from|import)\s*"(node:[\w/]+)"/g)].map((m) => m[1] ?? '')),
  ].sort();
  const builtinsFile = join(dir, 'builtins.mjs');
  writeFileSync(builtinsFile, names.map((name) => `import ${JSON.stringify(name)};`).join('\n'));
  return { sdk, sdkWithoutAliases, secretsManager, builtins: { file: builtinsFile, names } };
}

/**
 * Bundles `entry` with the esbuild options every function is bundled with (lambdaBundling);
 * without its aliases when `aliases` is false (the stand-ins that take SDK and middy code out
 * of every cold start: docs/decisions.md, "Cold start").
 */
export function bundleLikeTheFunctions(
  entry: string,
  outfile: string,
  aliases = true,
): { file: string; kb: number } {
  const options = lambdaBundling({ argon2: false });
  const alias = Object.fromEntries(
    Object.entries(options.esbuildArgs ?? {})
      .filter(([flag]) => aliases && flag.startsWith('--alias:'))
      .map(([flag, to]) => [flag.slice('--alias:'.length), String(to)]),
  );
  buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    minify: options.minify ?? false,
    target: options.target ?? 'node22',
    mainFields: options.mainFields ?? [],
    ...(options.banner ? { banner: { js: options.banner } } : {}),
    alias,
    legalComments: 'none',
    outfile,
    logLevel: 'error',
  });
  return { file: outfile, kb: statSync(outfile).size / 1024 };
}
