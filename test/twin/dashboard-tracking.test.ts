import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openDashboard, overflow, signIn } from '../support/browser.ts';
import { createAccount } from '../support/twin-seed.ts';

/** The dashboard's tracking page on a phone-sized window: rotate the key (shown once), make URLs, follow one. */
describe('the dashboard’s tracking page', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('rotates the tracking key, shows it once, and makes URLs that redirect', async () => {
    const { apiKey } = await createAccount('Tracking page');
    const { page, snap, problems, close } = await openDashboard(browser, 'tracking', { width: 375, height: 812 });
    await signIn(page, apiKey);
    await page.getByRole('link', { name: 'Tracking' }).click();
    await page.getByRole('heading', { name: 'Tracking', exact: true }).waitFor();

    await page.getByRole('button', { name: 'Rotate the tracking key' }).click();
    await page.getByText(/^New tracking key [a-z0-9]{8}\.$/).waitFor();
    expect(await page.locator('.once code').textContent()).toMatch(/^trk_[A-Za-z0-9_-]{43}$/);
    const keyId = (await page.getByText(/^New tracking key/).textContent())!.match(/key ([a-z0-9]{8})/)![1];

    await page.getByLabel('Message id').fill('dash-msg-1');
    await page.getByLabel('Links', { exact: true }).fill('https://shop.example.com/a\nhttps://shop.example.com/b?x=1');
    await page.getByRole('button', { name: 'Make URLs' }).click();
    await page.getByText(`Signed with tracking key ${keyId}.`).waitFor();
    const urls = await page.locator('table code').allTextContents();
    expect(urls).toHaveLength(3);
    expect(urls[0]).toMatch(/\/t\/o\//);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    await snap('tracking-urls');

    const click = await fetch(urls[2]!, { redirect: 'manual', headers: { 'user-agent': 'Mozilla/5.0 Firefox/133.0' } });
    expect(click.status).toBe(302);
    expect(click.headers.get('location')).toBe('https://shop.example.com/b?x=1');
    expect(problems).toEqual([]);
    await close();
  });
});
