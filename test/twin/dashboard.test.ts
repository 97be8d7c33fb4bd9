import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/twin-api.ts';
import { launchBrowser, openDashboard, overflow, refreshUntil, signIn } from '../support/browser.ts';
import { type Loopback, answerPosts, startLoopback } from '../support/loopback.ts';
import { createAccount, createVerifiedLoop } from '../support/twin-seed.ts';

/**
 * A new user's way through the dashboard, on a phone-sized window (375 px): sign in, create a loop,
 * verify it with the file the page offers, test it, find a failed delivery and replay it, and
 * download today's log as CSV. The twin retries after 1, 1 and 1 s and flushes logs every 10 s.
 */
describe('the dashboard, as an account uses it', () => {
  let browser: Browser;
  let receiver: Loopback;
  let failing = false;
  const answered: { id: string; status: number }[] = [];
  beforeAll(async () => {
    browser = await launchBrowser();
    receiver = await startLoopback({
      answer: answerPosts((request) => {
        const status = failing ? 500 : 200;
        answered.push({ id: String(request.headers['webhook-id']), status });
        return status;
      }),
    });
  });
  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
  });

  it('sets up a verified loop, tests it, replays a failure and downloads the log as CSV', async () => {
    const { apiKey } = await createAccount('Dashboard user');
    const { page, snap, problems, close } = await openDashboard(browser, 'account', { width: 375, height: 812 });

    await signIn(page, apiKey);
    await page.getByRole('heading', { name: 'Loops', exact: true }).waitFor();
    await page.getByText('No loops yet').waitFor();
    expect(page.url()).not.toContain(apiKey);
    await snap('loops-empty');

    // Create: the URL of a script on this machine, two event types.
    await page.getByRole('link', { name: 'New loop' }).click();
    await page.getByLabel('Script URL').fill(`${receiver.origin}/hooks/copernica.php`);
    await page.getByRole('checkbox', { name: 'open' }).check();
    await page.getByRole('checkbox', { name: 'click' }).check();
    await snap('new-loop');
    await page.getByRole('button', { name: 'Create loop' }).click();
    await page.getByRole('heading', { name: /^Loop / }).waitFor();
    expect(await page.locator('.once code').textContent()).toMatch(/^whsec_/);
    await expect(page.getByRole('button', { name: 'Copy Signing secret' }).isVisible()).resolves.toBe(true);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    await snap('loop-unverified');

    // Check now before the file is there: each location's answer is shown.
    await page.getByRole('button', { name: 'Check now' }).click();
    const answers = page.getByRole('alert').filter({ hasText: 'What each location answered' });
    await answers.waitFor();
    expect(await answers.locator('li').count()).toBe(2);
    // What was found stays said: the hint below no longer claims the loop was never checked.
    await page.getByText(/^Last checked .+: not found \(see above\)\.$/).waitFor();
    expect(await page.getByText('Not checked yet.').count()).toBe(0);

    // The file, as the page downloads it, served from the script's directory.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download the file' }).click(),
    ]);
    const content = await readFile((await download.path())!, 'utf8');
    expect(download.suggestedFilename()).toMatch(/^fl-.+\.txt$/);
    receiver.serve(`/hooks/${download.suggestedFilename()}`, { body: content });
    await page.getByRole('button', { name: 'Check now' }).click();
    await page.getByText('Verified. Events are now sent to your script.').waitFor();
    await page.locator('.badge.verified').waitFor();
    await snap('loop-verified');

    // Test: a signed test event reaches the receiver.
    await page.getByRole('button', { name: 'Send a test event' }).click();
    await page.getByText(/^Delivered: HTTP 200, in \d+ ms\.$/).waitFor();
    expect(receiver.posts().some((post) => post.body.includes('type=test'))).toBe(true);

    // The receiver fails: an event runs out of retries and shows under Failures.
    failing = true;
    const sent = await call('POST', '/v1/events', {
      key: apiKey,
      body: { type: 'open', message: 'dashboard-message', recipient: 'jane@example.com' },
    });
    expect(sent.status).toBe(202);
    const eventId = sent.body.ids[0] as string;
    const failure = page.getByRole('checkbox', { name: `Select open event ${eventId}` });
    await refreshUntil(() => page.getByRole('button', { name: 'Refresh' }).click(), failure);
    await snap('failure');

    // Replay it once the receiver works again.
    failing = false;
    const attempts = answered.filter((answer) => answer.id === eventId).length;
    await failure.check();
    await page.getByRole('button', { name: 'Replay selected' }).click();
    await page.getByText('1 delivery queued again.').waitFor();
    await receiver.waitFor((request) => request.headers['webhook-id'] === eventId, attempts + 1);
    const statuses = answered.filter((answer) => answer.id === eventId).map((answer) => answer.status);
    expect(statuses.slice(0, attempts)).toEqual(Array(attempts).fill(500));
    expect(statuses.at(-1)).toBe(200);
    await snap('replayed');

    // Today's log file of opens, downloaded as CSV, holds the event.
    await page.getByRole('link', { name: 'Log files' }).click();
    const today = new Date().toISOString().slice(0, 10);
    const csvButton = page.getByRole('button', { name: `Download opens.${today} as CSV` });
    await refreshUntil(() => page.reload(), csvButton, 60_000);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    await snap('log-files');
    const [csvDownload] = await Promise.all([page.waitForEvent('download'), csvButton.click()]);
    expect(csvDownload.suggestedFilename()).toBe(`opens.${today}.csv`);
    const records = parse(await readFile((await csvDownload.path())!, 'utf8'), { columns: true, bom: true }) as Record<
      string,
      string
    >[];
    expect(records).toContainEqual(
      expect.objectContaining({
        id: eventId,
        type: 'open',
        message: 'dashboard-message',
        recipient: 'jane@example.com',
      }),
    );

    // Signing out forgets the key.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    // The one refusal the page met is the check before the file was there (422, as the API answers it).
    expect(problems).toEqual([expect.stringMatching(/status of 422 .*\/verify\)$/)]);
    await close();
  });

  it('changes, disables, enables, rotates and (after asking) deletes a loop', async () => {
    const { apiKey } = await createAccount('Loop keeper');
    const loop = await createVerifiedLoop(apiKey, receiver, { path: '/keeper/hook.php' });
    const { page, snap, problems, close } = await openDashboard(browser, 'manage');
    await signIn(page, apiKey);
    await page.getByRole('link', { name: loop.url }).click();
    await page.locator('.badge.verified').waitFor();

    await page.getByLabel('Description (optional)').fill('Newsletter opens');
    await page.getByRole('checkbox', { name: 'bounce' }).check();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('open, click, bounce · form · Newsletter opens').waitFor();
    await page.getByRole('status').filter({ hasText: 'Changes saved.' }).waitFor();

    // No event type at all: said under the events, as a person would.
    for (const type of ['open', 'click', 'bounce']) await page.getByRole('checkbox', { name: type }).uncheck();
    await page.getByRole('button', { name: 'Save changes' }).click();
    const eventsError = page.locator('[data-field="events"] .error');
    await eventsError.waitFor();
    expect(await eventsError.textContent()).toBe('Choose at least one event type. ');
    expect(await page.getByText('see details').count()).toBe(0);
    await page.getByRole('checkbox', { name: 'open' }).check();

    // A URL the API refuses: its words appear under the URL field.
    await page.getByLabel('Script URL').fill('ftp://example.com/hook');
    await page.getByRole('button', { name: 'Save changes' }).click();
    const urlError = page.locator('[data-field="url"] .error');
    await urlError.waitFor();
    expect(await urlError.textContent()).toBe('This URL cannot be used: ftp URLs are not allowed; use https. ');
    expect(await eventsError.isHidden()).toBe(true);
    expect(await page.getByLabel('Script URL').getAttribute('aria-invalid')).toBe('true');
    await snap('url-refused');

    await page.getByRole('button', { name: 'Disable loop' }).click();
    await page.locator('.badge.disabled', { hasText: 'disabled: turned off' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'Loop disabled: nothing is sent to it' }).waitFor();
    await page.getByRole('button', { name: 'Enable loop' }).click();
    await page.locator('.badge.verified').waitFor();
    await page.getByRole('status').filter({ hasText: 'Loop enabled: events are sent to it again.' }).waitFor();

    await page.getByRole('button', { name: 'Rotate secret' }).click();
    const rotated = (await page.locator('.once code').textContent())!;
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(loop.secret);

    await page.getByRole('button', { name: 'Delete loop…' }).click();
    await page.getByRole('button', { name: 'Cancel' }).click();
    expect((await call('GET', `/v1/loops/${loop.id}`, { key: apiKey })).status).toBe(200);
    await page.getByRole('button', { name: 'Delete loop…' }).click();
    await snap('confirm-delete');
    await page.getByRole('button', { name: 'Yes, delete this loop' }).click();
    await page.getByText('No loops yet').waitFor();
    expect((await call('GET', `/v1/loops/${loop.id}`, { key: apiKey })).status).toBe(404);
    // The two saves the API refused (no events, an ftp URL), and nothing else.
    expect(problems).toEqual(Array(2).fill(expect.stringMatching(/status of 400 .*\/v1\/loops\/loop_\w+\)$/)));
    await close();
  });

  it('shows bidi overrides and isolates in a description as what they are, not reordering the text', async () => {
    const { apiKey } = await createAccount('Bidi');
    const description = 'invoice \u202Etxt.exe\u202C and \u2067isolated\u2069';
    const created = await call('POST', '/v1/loops', {
      key: apiKey,
      body: { url: `${receiver.origin}/hooks/bidi.php`, events: ['open'], description },
    });
    expect(created.status).toBe(201);
    const { page, problems, close } = await openDashboard(browser, 'bidi');
    await signIn(page, apiKey);
    await page.getByRole('heading', { name: 'Loops', exact: true }).waitFor();
    const shown = page.getByText('invoice [U+202E]txt.exe[U+202C] and [U+2067]isolated[U+2069]');
    await shown.waitFor();
    const text = await page.locator('body').innerText();
    expect(text).not.toMatch(/[\u202A-\u202E\u2066-\u2069]/);
    // And on the loop's own page.
    await page.goto(`${page.url().split('#')[0]}#/loops/${created.body.id}`);
    await page.getByRole('heading', { name: /^Loop / }).waitFor();
    await page.getByText('[U+202E]txt.exe[U+202C]').first().waitFor();
    expect(await page.locator('body').innerText()).not.toMatch(/[\u202A-\u202E\u2066-\u2069]/);
    expect(problems).toEqual([]);
    await close();
  });

  it('says plainly when a key is wrong (signing in by keyboard alone)', async () => {
    const { page, problems, close } = await openDashboard(browser, 'wrong-key');
    await page.getByLabel('API key').waitFor();
    await page.keyboard.type('not-a-key');
    await page.keyboard.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'This key is not valid' }).waitFor();
    expect(await page.getByRole('heading', { name: 'Sign in' }).isVisible()).toBe(true);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(problems).toEqual([expect.stringMatching(/status of 401 .*\/v1\/accounts\)$/)]);
    await close();
  });
});
