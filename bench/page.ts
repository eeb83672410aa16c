/**
 * The end user's page (GET /password) in the packaged headless Chromium against the local
 * gateway: what it weighs (every response the page loads, as sent) and how long it takes to
 * be interactive (navigation until the script has loaded the rules and wired the form: the
 * `data-ready` mark). Runs alone with `npx tsx bench/page.ts`; `npm run bench` prints it too.
 */
import '../infra/local/node-warnings.ts';
import { pathToFileURL } from 'node:url';
import { seedDemo } from '../infra/local/demo.ts';
import { startLocalApi } from '../infra/local/local-api.ts';
import { launchBrowser } from '../test/support/browser.ts';
import { median, percentile, table } from './stats.ts';

export interface PageMeasurement {
  /** Each response the page loaded: path and bytes of body as sent (no compression). */
  responses: Array<{ path: string; bytes: number }>;
  totalBytes: number;
  /** Navigation start to `data-ready`, as the page's own clock tells it (ms). */
  interactiveMs: number[];
  /** Navigation start to DOMContentLoaded end (ms). */
  domContentLoadedMs: number[];
}

/** Run in the page before its own script: notes the page clock when `data-ready` is set. */
const MARK_READY = `new MutationObserver(function (records, observer) {
  var root = document.documentElement;
  if (root.dataset.ready === 'true') { root.dataset.readyAt = String(performance.now()); observer.disconnect(); }
}).observe(document, { attributes: true, subtree: true });`;

/** The ready mark and DOMContentLoaded's end, both from navigation start. */
const READ_TIMING = `({
  ready: Number(document.documentElement.dataset.readyAt),
  dcl: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd,
})`;

/** Loads the page `runs` times in one browser (a fresh tab each time, cache disabled). */
export async function measurePage(runs: number): Promise<PageMeasurement> {
  // The handlers' request lines would drown the tables.
  const logLevel = process.env.LOG_LEVEL;
  process.env.LOG_LEVEL = 'SILENT';
  const api = await startLocalApi({ persist: false });
  const chrome = await launchBrowser();
  try {
    const first = api.runtimes.values().next().value;
    if (first) await seedDemo(first.deps.directory);
    const interactiveMs: number[] = [];
    const domContentLoadedMs: number[] = [];
    let responses: Array<{ path: string; bytes: number }> = [];
    for (let i = 0; i <= runs; i++) {
      const page = await chrome.browser.newPage();
      await page.setCacheEnabled(false);
      const seen: Array<{ path: string; bytes: number }> = [];
      page.on('response', (res) => {
        void res.buffer().then(
          (body) => seen.push({ path: new URL(res.url()).pathname, bytes: body.length }),
          () => undefined,
        );
      });
      // The mark is taken by the page itself the moment the script sets data-ready.
      await page.evaluateOnNewDocument(MARK_READY);
      await page.goto(`${api.gateway.url}/password?tenancy=democorp&username=alice`, { waitUntil: 'load' });
      await page.waitForSelector('html[data-ready-at]');
      const timing = (await page.evaluate(READ_TIMING)) as { ready: number; dcl: number };
      await page.close();
      // The first load warms the gateway's handler modules up; it is not counted.
      if (i === 0) continue;
      interactiveMs.push(timing.ready);
      domContentLoadedMs.push(timing.dcl);
      responses = seen;
    }
    responses.sort((a, b) => a.path.localeCompare(b.path));
    return {
      responses,
      totalBytes: responses.reduce((sum, r) => sum + r.bytes, 0),
      interactiveMs,
      domContentLoadedMs,
    };
  } finally {
    await chrome.close();
    await api.close();
    if (logLevel === undefined) delete process.env.LOG_LEVEL;
    else process.env.LOG_LEVEL = logLevel;
  }
}

/** The page's two tables: what it loads, and how fast it is ready. */
export function formatPage(m: PageMeasurement): string {
  const sizes = table(
    ['response', 'bytes'],
    [...m.responses.map((r) => [r.path, r.bytes]), ['total (uncompressed)', m.totalBytes]],
  );
  const times = table(
    ['figure', 'median (ms)', 'p90 (ms)'],
    [
      [
        'DOMContentLoaded',
        median(m.domContentLoadedMs).toFixed(1),
        percentile(m.domContentLoadedMs, 90).toFixed(1),
      ],
      [
        'interactive (rules loaded, form wired)',
        median(m.interactiveMs).toFixed(1),
        percentile(m.interactiveMs, 90).toFixed(1),
      ],
    ],
  );
  return `${sizes}\n\n${times}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const runs = Number(process.env.BENCH_PAGE_RUNS ?? 15);
  console.log(`## The end user's page (${runs} loads, headless Chromium, local gateway)\n`);
  console.log(formatPage(await measurePage(runs)));
}
