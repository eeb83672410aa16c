/**
 * `npm run bench`: bundle sizes and load times of the synthesized functions, argon2id
 * latency, and change-password's timing for known and unknown users, printed as tables.
 * Medians; these machines are noisy, so compare ratios.
 */
import '../infra/local/node-warnings.ts';
import { measureArgon2 } from './argon2.ts';
import { formatBlocklist, measureBlocklist } from './blocklist.ts';
import {
  cdkDefaultBundle,
  floorModules,
  hasValgrind,
  importWorkMillions,
  measureBundles,
} from './bundles.ts';
import { formatEnumeration, measureEnumeration } from './enumeration.ts';
import { formatPage, measurePage } from './page.ts';
import { table } from './stats.ts';

// The in-process gateway below (enumeration) would print one EMF document per request on
// stdout, hundreds of lines between the tables; the functions' metrics are not what is measured.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
/** Bundle size is reported against a soft ceiling; cold start is what is judged. */
const SOFT_CEILING_KB = 500;
/** The goal: each function imports in at most this multiple of the two-SDK-clients floor. */
const GOAL_OVER_FLOOR = 1.3;

console.log(`rekey bench — node ${process.version}, ${RUNS} runs per figure, medians\n`);

const reference = cdkDefaultBundle();
const floor = floorModules();
const { bundles, extraMs } = measureBundles(RUNS, [
  reference.file,
  floor.sdk.file,
  floor.secretsManager.file,
  floor.builtins.file,
  floor.sdkWithoutAliases.file,
]);
const [
  referenceMs = Number.NaN,
  sdkMs = Number.NaN,
  smMs = Number.NaN,
  builtinsMs = Number.NaN,
  plainSdkMs = Number.NaN,
] = extraMs;
/** The floors' row labels, the same in both tables. */
const FLOOR_LABEL = {
  sdk: '(floor: only the DynamoDB and Secrets Manager clients)',
  secretsManager: '(floor: only the Secrets Manager client, which the stack requires)',
  builtins: '(floor: only the Node built-ins those clients import)',
};
/** A reference row of the table below: no ceiling or goal, only its size and its time × the floor. */
function referenceRow(label: string, kb: number | undefined, ms: number): string[] {
  return [label, kb === undefined ? '-' : kb.toFixed(1), '-', ms.toFixed(1), (ms / sdkMs).toFixed(2), '-'];
}

console.log('## Functions (as synthesized by `cdk synth`)\n');
console.log(
  table(
    [
      'function',
      'bundle (KB, minified)',
      `≤ ${SOFT_CEILING_KB} KB (soft)`,
      'import in a fresh node (ms)',
      '× the two-clients floor',
      `≤ ${GOAL_OVER_FLOOR}×`,
    ],
    [
      ...bundles.map((b) => [
        b.name,
        b.minifiedKb.toFixed(1),
        b.minifiedKb <= SOFT_CEILING_KB ? 'yes' : 'NO',
        b.loadMs.toFixed(1),
        (b.loadMs / sdkMs).toFixed(2),
        b.loadMs / sdkMs <= GOAL_OVER_FLOOR ? 'yes' : 'NO',
      ]),
      referenceRow('(CDK default bundling of CreateOrResetUiPassword)', reference.kb, referenceMs),
      referenceRow(FLOOR_LABEL.sdk, floor.sdk.kb, sdkMs),
      referenceRow(
        "(the same two clients without rekey's esbuild aliases)",
        floor.sdkWithoutAliases.kb,
        plainSdkMs,
      ),
      referenceRow(FLOOR_LABEL.secretsManager, floor.secretsManager.kb, smMs),
      referenceRow(FLOOR_LABEL.builtins, undefined, builtinsMs),
    ],
  ),
);

if (process.env.BENCH_INSTRUCTIONS !== '0' && hasValgrind()) {
  const references = [
    { label: FLOOR_LABEL.sdk, file: floor.sdk.file },
    { label: FLOOR_LABEL.secretsManager, file: floor.secretsManager.file },
    { label: FLOOR_LABEL.builtins, file: floor.builtins.file },
  ];
  const work = await importWorkMillions([...bundles, ...references]);
  const floorWork = work[bundles.length] ?? Number.NaN;
  const row = (label: string, millions: number) => [
    label,
    millions.toFixed(1),
    (millions / floorWork).toFixed(3),
  ];
  console.log('\n## The same imports in instructions (valgrind; the same count on every run)\n');
  console.log(
    table(
      ['function', 'instructions (M) over an empty import', '× the two-clients floor'],
      [
        ...bundles.map((b, i) => row(b.name, work[i] ?? Number.NaN)),
        ...references.map((r, i) => row(r.label, work[bundles.length + i] ?? Number.NaN)),
      ],
    ),
  );
}

const argon2 = await measureArgon2(Number(process.env.BENCH_HASHES ?? 40));
console.log('\n## argon2id (m=19456 KiB, t=2, p=1)\n');
console.log(
  table(
    ['operation', 'median (ms)', '≤ 20 ms'],
    [
      ['hash', argon2.hashMs.toFixed(1), argon2.hashMs <= 20 ? 'yes' : 'NO'],
      ['verify', argon2.verifyMs.toFixed(1), argon2.verifyMs <= 20 ? 'yes' : 'NO'],
    ],
  ),
);

const enumeration = await measureEnumeration(Number(process.env.BENCH_ENUMERATION_CALLS ?? 200));
console.log('\n## Change-password: known user vs unknown user (username enumeration by timing)\n');
console.log(formatEnumeration(enumeration));

const page = await measurePage(Number(process.env.BENCH_PAGE_RUNS ?? RUNS));
console.log("\n## The end user's page (GET /password in headless Chromium, local gateway)\n");
console.log(formatPage(page));

console.log('\n## Common-password blocklist (issue 13)\n');
console.log(formatBlocklist(measureBlocklist(RUNS)));
