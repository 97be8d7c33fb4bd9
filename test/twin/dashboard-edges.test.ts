import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/twin-api.ts';
import { launchBrowser, openDashboard, overflow, signIn } from '../support/browser.ts';
import { type Loopback, answerPosts, startLoopback } from '../support/loopback.ts';
import { createAccount, createVerifiedLoop } from '../support/twin-seed.ts';
import { until } from '../support/wait.ts';

/**
 * The dashboard where the data is unusual: long unbroken text on a phone, a loop a 410 disabled,
 * lists longer than one page. Pages of 200 are made pages of 2 (the request's limit rewritten in the
 * browser), so the real API's cursors are followed without creating hundreds of items.
 */
describe('the dashboard with unusual data', () => {
  let browser: Browser;
  let receiver: Loopback;
  beforeAll(async () => {
    browser = await launchBrowser();
    receiver = await startLoopback({
      answer: answerPosts((request) => {
        if (request.path.startsWith('/gone/')) return 410;
        return request.path.startsWith('/fail/') ? 500 : 200;
      }),
    });
  });
  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
  });

  it('wraps a 600-character description without spaces at 375 px', async () => {
    const { apiKey } = await createAccount('Long words');
    const description = 'x'.repeat(600);
    const created = await call('POST', '/v1/loops', {
      key: apiKey,
      body: { url: `${receiver.origin}/long/hook.php`, events: ['open'], description },
    });
    expect(created.status).toBe(201);
    const { page, snap, problems, close } = await openDashboard(browser, 'long-text', { width: 375, height: 812 });
    await signIn(page, apiKey);
    await page.getByText(description).first().waitFor();
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    await page.getByRole('link', { name: created.body.url }).click();
    await page.getByRole('heading', { name: /^Loop / }).waitFor();
    await snap('long-description');
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    expect(await page.getByLabel('Description (optional)').inputValue()).toBe(description);
    expect(problems).toEqual([]);
    await close();
  });

  it('says when a 410 disabled a loop in local time, and the failure\'s "HTTP 410" once', async () => {
    const { apiKey } = await createAccount('Gone receiver');
    const loop = await createVerifiedLoop(apiKey, receiver, { path: '/gone/hook.php' });
    expect(
      (
        await call('POST', '/v1/events', {
          key: apiKey,
          body: { type: 'open', message: 'gone', recipient: 'a@example.com' },
        })
      ).status,
    ).toBe(202);
    let disabledReason = '';
    await until(
      'the loop is disabled by the 410',
      async () => {
        const answer = await call('GET', `/v1/loops/${loop.id}`, { key: apiKey });
        disabledReason = answer.body.disabledReason ?? '';
        return answer.body.status === 'disabled';
      },
      30_000,
    );
    const iso = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z/.exec(disabledReason)?.[0];
    expect(iso, disabledReason).toBeDefined();
    const { page, snap, problems, close } = await openDashboard(browser, 'gone');
    // The page's local time, as the browser says it (the test's Node may format differently).
    const local = String(await page.evaluate(`new Date(${JSON.stringify(iso)}).toLocaleString()`));
    await signIn(page, apiKey);
    const badge = page.locator('.badge.disabled');
    await badge.waitFor();
    expect(await badge.textContent()).toContain(local);
    expect(await badge.textContent()).not.toContain(iso);

    await page.getByRole('link', { name: loop.url }).click();
    const failure = page.getByRole('row').filter({ has: page.getByRole('checkbox') });
    await until(
      'the failure is listed',
      async () => {
        await page.getByRole('button', { name: 'Refresh' }).click();
        return (await failure.count()) === 1;
      },
      30_000,
      1000,
    );
    const lastAnswer = (await failure.locator('td[data-label="Last answer"]').textContent())!;
    expect(lastAnswer).toContain('HTTP 410');
    expect(lastAnswer.match(/HTTP 410/g)).toHaveLength(1);
    await snap('gone');
    expect(problems).toEqual([]);
    await close();
  });

  it('pages on through loops and failures past the first page (nextCursor)', async () => {
    const { apiKey } = await createAccount('Many loops');
    const failing = await createVerifiedLoop(apiKey, receiver, { path: '/fail/hook.php' });
    for (const index of [1, 2, 3, 4]) {
      const created = await call('POST', '/v1/loops', {
        key: apiKey,
        body: { url: `${receiver.origin}/many/${index}.php`, events: ['open'] },
      });
      expect(created.status).toBe(201);
    }
    // Five failures of the first loop: its receiver answers 500 (retries after 1, 1, 1 s).
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const sent = await call('POST', '/v1/events', {
        key: apiKey,
        body: { type: 'open', message: 'paging', recipient: `r${i}@example.com` },
      });
      ids.push(sent.body.ids[0]);
    }
    await until(
      'five failures are recorded',
      async () => (await call('GET', `/v1/loops/${failing.id}/failures`, { key: apiKey })).body.failures.length === 5,
      60_000,
      1000,
    );

    const { page, problems, close } = await openDashboard(browser, 'paging');
    await page.route(/\/v1\/(loops|accounts)[^?]*\?limit=200/, (route) =>
      route.continue({ url: route.request().url().replace('limit=200', 'limit=2') }),
    );
    await signIn(page, apiKey);
    const loopRows = page.locator('tbody tr');
    await loopRows.first().waitFor();
    expect(await loopRows.count()).toBe(2);
    await page.getByRole('button', { name: 'Show more loops' }).click();
    await until('4 loops are listed', async () => (await loopRows.count()) === 4, 10_000);
    await page.getByRole('button', { name: 'Show more loops' }).click();
    await until('5 loops are listed', async () => (await loopRows.count()) === 5, 10_000);
    expect(await page.getByRole('button', { name: 'Show more loops' }).count()).toBe(0);

    await page.getByRole('link', { name: failing.url }).click();
    const boxes = page.getByRole('checkbox', { name: /^Select open event / });
    await boxes.first().waitFor();
    expect(await boxes.count()).toBe(2);
    while (await page.getByRole('button', { name: 'Show more failures' }).count()) {
      const before = await boxes.count();
      await page.getByRole('button', { name: 'Show more failures' }).click();
      await until('more failures are listed', async () => (await boxes.count()) > before, 10_000);
    }
    const listed = await boxes.evaluateAll((inputs) =>
      inputs.map((input) => (input as unknown as { value: string }).value),
    );
    expect(listed.sort()).toEqual([...ids].sort());
    expect(problems).toEqual([]);
    await close();
  });
});
