/**
 * The loaders that keep work out of every cold start (docs/decisions.md, "Cold start"): the
 * argon2id addon opened directly where the stack names its binary, and the stand-ins the
 * function bundles get instead of `node:stream/web`, `node:stream/promises`, `node:console`,
 * `node:timers` and the SDK's event-stream module.
 */
import { spawnSync } from 'node:child_process';
import * as realConsole from 'node:console';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import * as realStreamPromises from 'node:stream/promises';
import { ReadableStream as RealReadableStream } from 'node:stream/web';
import * as realTimers from 'node:timers';
import { describe, expect, it } from 'vitest';
import * as builtinExports from '#adapters/builtin-exports.ts';
import * as standIn from '#adapters/no-event-streams.ts';
import { pipeline } from '#adapters/stream-promises-on-demand.ts';
import { ReadableStream } from '#adapters/web-streams-on-demand.ts';

const require = createRequire(import.meta.url);

/** The host's build of the binding, which the package's loader would pick here. */
function hostBinary(): string {
  const loader = require.resolve('@node-rs/argon2');
  const candidates = readdirSync(join(dirname(loader), '..')).filter((name) =>
    name.startsWith(`argon2-${process.platform}-${process.arch}`),
  );
  const dir = join(dirname(loader), '..', candidates[0] ?? 'missing');
  return join(dir, readdirSync(dir).find((name) => name.endsWith('.node')) ?? 'missing');
}

/** Runs `script` in a fresh node with the project's TypeScript loader; returns stdout. */
function runFresh(script: string, env: Record<string, string>): string {
  const out = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, ...env, NODE_NO_WARNINGS: '1' },
    encoding: 'utf8',
  });
  if (out.status !== 0) throw new Error(out.stderr);
  return out.stdout.trim();
}

describe('the argon2id hasher in a deployed function', () => {
  const script = `
    import { createRequire } from 'node:module';
    const { argon2idHasher } = await import('#adapters/argon2-hasher.ts');
    const phc = await argon2idHasher.hash('correct horse battery staple');
    const ok = await argon2idHasher.verify(phc, 'correct horse battery staple');
    const wrong = await argon2idHasher.verify(phc, 'Correct horse battery staple');
    const broken = await argon2idHasher.verify('not a phc string', 'x');
    const loader = createRequire(import.meta.url).resolve('@node-rs/argon2');
    const loaded = Object.keys(createRequire(import.meta.url).cache).includes(loader);
    console.log(JSON.stringify({ prefix: phc.slice(0, 10), ok, wrong, broken, loaded }));
  `;

  it('opens the binary the stack names directly, without the package loader, and hashes and verifies with it', () => {
    const result = JSON.parse(runFresh(script, { NAPI_RS_NATIVE_LIBRARY_PATH: hostBinary() }));
    expect(result).toEqual({ prefix: '$argon2id$', ok: true, wrong: false, broken: false, loaded: false });
  });

  it('loads the package as usual where no binary is named (npm start, tests, the CLI)', () => {
    const env = { NAPI_RS_NATIVE_LIBRARY_PATH: '' };
    const result = JSON.parse(runFresh(script, env));
    expect(result).toEqual({ prefix: '$argon2id$', ok: true, wrong: false, broken: false, loaded: true });
  });

  it('fails the cold start loudly when the named binary is missing', () => {
    expect(() => runFresh(script, { NAPI_RS_NATIVE_LIBRARY_PATH: '/nonexistent/argon2.node' })).toThrow(
      /argon2\.node/,
    );
  });
});

describe('the node:stream/web stand-in', () => {
  it("answers middy's instanceof check as the real class does", () => {
    expect(new RealReadableStream() instanceof ReadableStream).toBe(true);
    expect({ getReader() {} } instanceof ReadableStream).toBe(false);
    for (const value of [null, 'stream', 42] as unknown[]) {
      expect((value as object) instanceof ReadableStream).toBe(false);
    }
  });
});

describe('the node:console and node:timers stand-ins', () => {
  it('are the very class and functions the built-ins export', () => {
    expect(builtinExports.Console).toBe(realConsole.Console);
    expect(builtinExports.setTimeout).toBe(realTimers.setTimeout);
    expect(builtinExports.clearTimeout).toBe(realTimers.clearTimeout);
    expect(builtinExports.setInterval).toBe(realTimers.setInterval);
    expect(builtinExports.clearInterval).toBe(realTimers.clearInterval);
    expect(builtinExports.setImmediate).toBe(realTimers.setImmediate);
    expect(builtinExports.clearImmediate).toBe(realTimers.clearImmediate);
  });

  it('offer every name their bundled importers take (Powertools Metrics, @middy/core)', () => {
    const taken = (file: string, module: string) =>
      [...readFileSync(file, 'utf8').matchAll(new RegExp(`import \\{([^}]*)\\} from ['"]${module}['"]`, 'g'))]
        .flatMap((match) => (match[1] ?? '').split(','))
        .map((name) => name.trim())
        .filter(Boolean);
    const names = [
      ...taken('node_modules/@aws-lambda-powertools/metrics/lib/esm/Metrics.js', 'node:console'),
      ...taken('node_modules/@middy/core/index.js', 'node:timers'),
    ];
    expect(names).toEqual(['Console', 'setTimeout']);
    for (const name of names) expect(name in builtinExports, name).toBe(true);
  });
});

describe('the node:stream/promises stand-in', () => {
  it('runs the real pipeline, loaded when called', async () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    await pipeline(Readable.from(['a', 'b']), out);
    expect(chunks.join('')).toBe('ab');
    expect(typeof realStreamPromises.pipeline).toBe('function');
  });
});

describe('the @smithy/core/event-streams stand-in', () => {
  it('refuses, by name, an event-stream operation no rekey function makes', () => {
    expect(() => new standIn.EventStreamSerde()).toThrow(/no event-stream support/);
    expect(() => standIn.eventStreamSerdeProvider()).toThrow(/no event-stream support/);
  });

  it('offers the names the SDK imports from the real module', async () => {
    const real = await import('@smithy/core/event-streams');
    const source = readFileSync(
      'node_modules/@smithy/core/dist-es/submodules/protocols/HttpProtocol.js',
      'utf8',
    );
    const imported = /const \{([^}]*)\} = await import\("@smithy\/core\/event-streams"\)/.exec(source)?.[1];
    const names = (imported ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      expect(name in real).toBe(true);
      expect(name in standIn).toBe(true);
    }
  });
});
