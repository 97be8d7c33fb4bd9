import { gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call } from '../support/twin-api.ts';
import { launchBrowser, openDashboard, overflow, signIn } from '../support/browser.ts';

describe('the dashboard for the operator', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('creates an account (its key shown once), issues a key and revokes it', async () => {
    const { page, snap, problems, close } = await openDashboard(browser, 'operator');
    await signIn(page, inject('twin').adminKey);
    await page.getByRole('heading', { name: 'Accounts', exact: true }).waitFor();
    await snap('accounts');

    const name = `Operator test ${Date.now()}`;
    await page.getByLabel('Name').fill(name);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText(`Account ${name} created`).waitFor();
    const accountKey = (await page.locator('.once code').textContent())!;
    expect(await page.getByText('it is shown only this once').isVisible()).toBe(true);
    // The key shown is the account's: it lists the account's (no) loops.
    expect((await call('GET', '/v1/loops', { key: accountKey })).status).toBe(200);
    await snap('account-created');

    const row = page.getByRole('row').filter({ hasText: name });
    await row.getByRole('button', { name: `Issue key for ${name}` }).click();
    const issued = row.locator('.once code');
    await issued.waitFor();
    const issuedKey = (await issued.textContent())!;
    expect(issuedKey).not.toBe(accountKey);
    expect((await call('GET', '/v1/loops', { key: issuedKey })).status).toBe(200);
    // The key list shows both ids (the first key's and the new one's), never a key.
    const keyId = (await row.locator('.once strong').textContent())!.replace('API key ', '');
    expect(keyId).toMatch(/^key_/);
    const keyList = row.getByRole('list', { name: `Keys of ${name}` });
    await keyList.getByText(keyId).waitFor();
    expect(await keyList.getByRole('listitem').count()).toBe(2);
    expect(await keyList.textContent()).not.toContain(issuedKey);
    await snap('keys-listed');

    // Revoking asks first: Cancel keeps the key.
    const accountId = (await row.locator('.hint code').first().textContent())!;
    await keyList.getByRole('button', { name: `Revoke key ${keyId}` }).click();
    const confirm = row.getByRole('alertdialog', { name: `Confirm revoking key ${keyId}` });
    await confirm.getByText('this cannot be undone').waitFor();
    await snap('confirm-revoke');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    expect(await confirm.count()).toBe(0);
    expect(
      (await call('GET', `/v1/accounts/${accountId}/keys`, { key: inject('twin').adminKey })).body.keys,
    ).toHaveLength(2);
    await keyList.getByRole('button', { name: `Revoke key ${keyId}` }).click();
    await confirm.getByRole('button', { name: 'Yes, revoke this key' }).click();
    await row.getByText(`Key ${keyId} revoked: it stops working within 5 minutes.`).waitFor();
    expect(await keyList.getByRole('listitem').count()).toBe(1);
    expect(await keyList.getByText(keyId).count()).toBe(0);
    await snap('key-revoked');

    // Every button's accessible name contains its visible label (WCAG 2.5.3, label in name).
    for (const button of await page.getByRole('button').all()) {
      const label = (await button.textContent())!.trim();
      const accessibleName = (await button.getAttribute('aria-label')) ?? label;
      expect(accessibleName.toLowerCase()).toContain(label.toLowerCase().replace(/…$/, ''));
    }

    // An account key cannot reach the operator's pages: it signs in to its own.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, accountKey);
    await page.getByRole('heading', { name: 'Loops', exact: true }).waitFor();
    expect(await page.getByRole('link', { name: 'Accounts' }).count()).toBe(0);
    expect(problems).toEqual([]);
    await close();
  });

  it('tells the admin key from an account key without a refused request, and no request for an icon fails', async () => {
    const { page, problems, close } = await openDashboard(browser, 'admin-sign-in');
    await signIn(page, inject('twin').adminKey);
    await page.getByRole('heading', { name: 'Accounts', exact: true }).waitFor();
    await page.getByRole('row').nth(1).waitFor();
    expect(problems).toEqual([]);
    const icon = await page.locator('link[rel=icon]').getAttribute('href');
    const answer = await fetch(`${inject('twin').apiUrl}${icon}`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('image/svg+xml');
    await close();
  });

  it('is readable at 375 px: nothing needs scrolling sideways', async () => {
    const { page, snap, close } = await openDashboard(browser, 'narrow', { width: 375, height: 700 });
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    await signIn(page, inject('twin').adminKey);
    await page.getByRole('heading', { name: 'Accounts', exact: true }).waitFor();
    await page.getByRole('row').nth(1).waitFor();
    await snap('accounts-narrow');
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    await close();
  });

  it('is served with a strict CSP, hashed assets cached for good and a small first view', async () => {
    const { apiUrl } = inject('twin');
    const root = await fetch(`${apiUrl}/`);
    expect(root.status).toBe(200);
    expect(root.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(root.headers.get('cache-control')).toBe('no-cache');
    const csp = root.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(root.headers.get('x-content-type-options')).toBe('nosniff');
    expect(root.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await root.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)|style=/);

    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((found) => found[1]!);
    expect(assets).toHaveLength(3);
    let gzipped = 0;
    for (const asset of assets) {
      const answer = await fetch(`${apiUrl}${asset}`);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      gzipped += gzipSync(Buffer.from(await answer.arrayBuffer()), { level: 9 }).length;
    }
    console.log(`dashboard first view: ${(gzipped / 1024).toFixed(1)} KB of JS, CSS and icon, gzipped`);
    expect(gzipped).toBeLessThanOrEqual(100 * 1024);
    expect((await fetch(`${apiUrl}/assets/main-NOSUCHFILE.js`)).status).toBe(404);
  });
});
