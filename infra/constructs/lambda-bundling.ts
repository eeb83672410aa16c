/**
 * How every rekey function is bundled: one minified ESM file (AWS SDK included, so the
 * version is pinned and nothing is resolved from disk at cold start), with the argon2id
 * native binding shipped beside it *built for Lambda* (linux arm64, glibc) rather than for
 * the machine that runs `cdk synth`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type BundlingOptions, LogLevel, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';

/** The repository root (bundling and asset paths are relative to it). */
export const PROJECT_ROOT = join(import.meta.dirname, '..', '..');

/** The native package Lambda loads, fetched by scripts/fetch-lambda-natives.mjs on `npm ci`. */
export const LAMBDA_ARGON2_PACKAGE = '@node-rs/argon2-linux-arm64-gnu';
export const LAMBDA_NATIVES_DIR = join(PROJECT_ROOT, '.lambda-natives', 'node_modules');
/** Where the binary sits in a deployed function (`/var/task` is the asset's root). */
export const LAMBDA_ARGON2_BINARY = `/var/task/node_modules/${LAMBDA_ARGON2_PACKAGE}/argon2.linux-arm64-gnu.node`;

/** The common-password blocklist artifact, written by scripts/build-blocklist.mjs on `npm ci`. */
export const BLOCKLIST_ARTIFACT = join(PROJECT_ROOT, '.build', 'common-passwords.bin');
/** Its name beside the bundle, where functions/adapters/blocklist.ts looks first. */
export const BLOCKLIST_ASSET_NAME = 'common-passwords.bin';

export interface LambdaBundlingProps {
  /** Ship @node-rs/argon2 and its linux-arm64 binary (functions that hash). */
  argon2: boolean;
  /** Ship the blocklist artifact beside the bundle (functions that check chosen passwords). */
  blocklist?: boolean;
}

/** Bundling options shared by every function. */
export function lambdaBundling(props: LambdaBundlingProps): BundlingOptions {
  if (props.argon2 && !existsSync(join(LAMBDA_NATIVES_DIR, LAMBDA_ARGON2_PACKAGE, 'package.json'))) {
    throw new Error(
      `The Lambda build of ${LAMBDA_ARGON2_PACKAGE} is missing; run "npm run fetch-natives" (it runs on npm ci).`,
    );
  }
  if (props.blocklist && !existsSync(BLOCKLIST_ARTIFACT)) {
    throw new Error(
      'The common-password blocklist artifact is missing; run "npm run build-blocklist" (it runs on npm ci).',
    );
  }
  return {
    format: OutputFormat.ESM,
    minify: true,
    // esbuild's per-bundle size lines are noise in `cdk synth` and in the test report; warnings stay.
    logLevel: LogLevel.WARNING,
    sourceMap: false,
    target: 'node22',
    mainFields: ['module', 'main'],
    // Some bundled CommonJS dependencies call require(); ESM output needs one defined.
    banner:
      "import{createRequire as __rekeyRequire}from'node:module';const require=__rekeyRequire(import.meta.url);",
    // The native binding cannot be bundled; it is copied beside the bundle below.
    externalModules: props.argon2 ? ['@node-rs/argon2'] : [],
    esbuildArgs: {
      '--alias:@aws-sdk/credential-provider-node': './functions/adapters/lambda-credentials.ts',
      '--alias:node:stream/web': './functions/adapters/web-streams-on-demand.ts',
      '--alias:node:stream/promises': './functions/adapters/stream-promises-on-demand.ts',
      '--alias:node:console': './functions/adapters/builtin-exports.ts',
      '--alias:node:timers': './functions/adapters/builtin-exports.ts',
      '--alias:@smithy/core/event-streams': './functions/adapters/no-event-streams.ts',
      '--legal-comments': 'none',
    },
    forceDockerBundling: false,
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (inputDir: string, outputDir: string) => [
        ...(props.argon2
          ? [
              `mkdir -p "${outputDir}/node_modules/@node-rs"`,
              `cp -R "${inputDir}/node_modules/@node-rs/argon2" "${outputDir}/node_modules/@node-rs/argon2"`,
              `cp -R "${LAMBDA_NATIVES_DIR}/${LAMBDA_ARGON2_PACKAGE}" "${outputDir}/node_modules/${LAMBDA_ARGON2_PACKAGE}"`,
            ]
          : []),
        // Built once by the build, copied as is: no function parses the list at a cold start.
        ...(props.blocklist ? [`cp "${BLOCKLIST_ARTIFACT}" "${outputDir}/${BLOCKLIST_ASSET_NAME}"`] : []),
      ],
    },
  };
}
