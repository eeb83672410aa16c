#!/usr/bin/env node
/**
 * Fetches the native modules the Lambda functions need *for Lambda's platform* (linux arm64,
 * glibc), which `npm ci` on another machine does not install. The version and the sha512
 * come from package-lock.json, so the binary is exactly the one the lock file pins.
 * Runs on `npm ci` (postinstall); the CDK bundling copies the result into each asset.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const LAMBDA_NATIVES = ['@node-rs/argon2-linux-arm64-gnu'];
const target = join(root, '.lambda-natives', 'node_modules');

function fetchOne(name) {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  const entry = lock.packages[`node_modules/${name}`];
  if (!entry) throw new Error(`${name} is not in package-lock.json`);
  const dest = join(target, name);
  const manifest = join(dest, 'package.json');
  if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).version === entry.version)
    return 'present';

  const work = mkdtempSync(join(tmpdir(), 'rekey-natives-'));
  try {
    const out = execFileSync(
      'npm',
      ['pack', `${name}@${entry.version}`, '--json', '--pack-destination', work],
      {
        cwd: work,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const [{ filename }] = JSON.parse(out);
    const tarball = join(work, filename);
    const digest = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    if (digest !== entry.integrity)
      throw new Error(`${name}: tarball sha512 does not match package-lock.json`);
    rmSync(dest, { recursive: true, force: true });
    mkdirSync(dest, { recursive: true });
    execFileSync('tar', ['-xzf', tarball, '-C', dest, '--strip-components=1']);
    return 'fetched';
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

try {
  for (const name of LAMBDA_NATIVES) console.log(`lambda natives: ${name} ${fetchOne(name)}`);
} catch (error) {
  // Never break `npm ci` offline; `cdk synth` names this script if the binary is missing.
  console.warn(
    `lambda natives: not fetched (${error.message}); run "npm run fetch-natives" before cdk synth`,
  );
}
