/**
 * A headless Chromium for the tests and the bench, from npm alone: `@sparticuz/chromium`
 * ships the browser inside its package (unpacked to the temporary folder on first use) and
 * `puppeteer-core` drives it. Flags for a root user on a machine without internet: no sandbox
 * (root), nothing that phones home (background networking, component updates, sync, first-run
 * pages), and a fresh profile of its own per launch. Its own flags that weaken the web's
 * security model (`--disable-web-security`, `--allow-running-insecure-content`) are *not*
 * taken: the tests must see the page's CSP and same-origin rules as a user's browser does.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import chromium from '@sparticuz/chromium';
import puppeteer, { type Browser } from 'puppeteer-core';

export const BROWSER_FLAGS = [
  '--no-sandbox',
  '--no-zygote',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-domain-reliability',
  '--disable-sync',
  '--no-first-run',
  '--no-default-browser-check',
  '--no-pings',
  '--disable-dev-shm-usage',
  '--font-render-hinting=none',
  '--use-gl=angle',
  '--use-angle=swiftshader',
] as const;

export interface TestBrowser {
  browser: Browser;
  close(): Promise<void>;
}

/** Launches the packaged Chromium with a profile of its own; `close` removes the profile. */
export async function launchBrowser(): Promise<TestBrowser> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'rekey-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: await chromium.executablePath(),
    headless: 'shell',
    userDataDir,
    args: [...BROWSER_FLAGS],
    defaultViewport: { width: 1024, height: 900 },
  });
  return {
    browser,
    close: async () => {
      await browser.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}
