/**
 * The dashboard's browser tests' Chromium (Playwright drives it): a browser, a page signed in to the
 * twin's dashboard, and the screenshots of its steps, written to test-results/ when a test fails.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import { inject, onTestFailed } from 'vitest';

/** Debian's chromium (apt-get install chromium), or the one CHROMIUM_PATH names. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = path.join('test-results', 'screenshots');

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `The dashboard's browser tests need Chromium, and there is none at ${CHROMIUM_PATH}: ` +
        'install it (Debian: apt-get install chromium) or set CHROMIUM_PATH to its executable.',
    );
  }
  // No sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/**
 * A fresh browser tab on the twin's dashboard. `snap(step)` keeps a screenshot of the page as it is;
 * if the test fails they are written to test-results/screenshots/, with one of the page at the end.
 * Whatever the page logs as an error (a CSP violation, an exception, a request answered 4xx) is
 * collected in `problems`; a test that provokes a refusal expects its line there.
 */
export async function openDashboard(browser: Browser, name: string, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  const shots: [string, Buffer][] = [];
  const problems: string[] = [];
  // Every error, a failed request's too (a favicon's 404, a 403 while signing in): with its URL.
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const { url } = message.location();
    problems.push(url ? `${message.text()} (${new URL(url).pathname})` : message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  onTestFailed(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    shots.push(['at-failure', await page.screenshot({ fullPage: true }).catch(() => Buffer.alloc(0))]);
    shots.forEach(([step, png], index) => {
      if (png.length)
        writeFileSync(path.join(SCREENSHOTS, `${name}-${String(index).padStart(2, '0')}-${step}.png`), png);
    });
  });
  await page.goto(`${inject('twin').apiUrl}/`);
  return {
    page,
    problems,
    snap: async (step: string) => {
      shots.push([step, await page.screenshot({ fullPage: true })]);
    },
    close: () => context.close(),
  };
}

export async function signIn(page: Page, key: string): Promise<void> {
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** How far the page is wider than the window (0 when nothing needs scrolling sideways). */
export async function overflow(page: Page): Promise<number> {
  // A string: the test project has no DOM types; it runs in the page.
  return Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
}

/** Clicks `refresh` until `target` shows, or fails after `timeoutMs`. */
export async function refreshUntil(
  refresh: () => Promise<unknown>,
  target: ReturnType<Page['locator']>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await refresh();
    if (await target.isVisible()) return;
    if (Date.now() > deadline) throw new Error(`${target} did not appear within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
