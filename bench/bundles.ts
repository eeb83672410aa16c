/**
 * Bundle size and module load time of every function, measured on the assets `cdk synth`
 * really produces. Load time is the wall time of a fresh `node` that imports the bundle
 * (which builds its clients and handler, as Lambda's init does) minus that of a bare `node`,
 * median of interleaved runs. The host's own argon2 binary stands in for the arm64 one.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildRekey } from '../infra/rekey-app.ts';
import { median } from './stats.ts';

export interface BundleResult {
  name: string;
  minifiedKb: number;
  loadMs: number;
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
  REKEY_TABLE: 'rekey',
  REKEY_JWT_ISSUER: 'https://issuer.example.com',
  NODE_NO_WARNINGS: '1',
};

function wallMs(args: string[], env: Record<string, string> = {}): number {
  const started = performance.now();
  const out = spawnSync(process.execPath, args, {
    env: { ...LAMBDA_LIKE_ENV, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (out.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${out.stderr.toString()}`);
  return performance.now() - started;
}

/** Median extra wall time of importing `file` in a fresh process, over a bare process. */
export function loadTimeMs(file: string, runs: number, env: Record<string, string> = {}): number {
  const bare: number[] = [];
  const loaded: number[] = [];
  // Both runs evaluate an ES module, so the ESM loader's own start-up cancels out.
  const importIt = ['--input-type=module', '-e', `await import(${JSON.stringify(file)})`];
  for (let i = 0; i < runs; i++) {
    bare.push(wallMs(['--input-type=module', '-e', '0']));
    loaded.push(wallMs(importIt, env));
  }
  return median(loaded) - median(bare);
}

/** Size and load time of every synthesized function. */
export function measureBundles(runs: number): BundleResult[] {
  const results: BundleResult[] = [];
  for (const [name, assetDir] of synthesizedAssets()) {
    const bundle = join(assetDir, 'index.mjs');
    const copy = loadableCopy(assetDir);
    results.push({
      name,
      minifiedKb: statSync(bundle).size / 1024,
      loadMs: loadTimeMs(join(copy.dir, 'index.mjs'), runs, copy.env),
    });
  }
  return results;
}

/**
 * For comparison: the uiPassword function as CDK bundles it by default (CommonJS, not
 * minified, the SDK left external and resolved from node_modules at load).
 */
export function cdkDefaultLoadMs(runs: number): { kb: number; loadMs: number } {
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
  return { kb: readFileSync(out).length / 1024, loadMs: loadTimeMs(out, runs) };
}
