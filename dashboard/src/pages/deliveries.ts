import { type Failure, type FailureList, type Loop, type Replayed, type TestResult, api } from '../api.ts';
import { busy, h, loadInto, moreButton, pageQuery, showError, when } from '../dom.ts';
import { answerInWords } from '../words.ts';

/** Sends one signed `test` event now and shows what the receiver answered. */
export function testSection(loop: Loop): HTMLElement {
  const button = h('button', { type: 'button' }, 'Send a test event');
  const result = h('div', { class: 'result', 'aria-live': 'polite' });
  button.addEventListener('click', async () => {
    result.replaceChildren();
    try {
      const answer = await busy(button, 'Sending…', () => api<TestResult>('POST', `/v1/loops/${loop.id}/test`));
      const said = answerInWords(answer.status, answer.error);
      result.replaceChildren(
        h(
          'p',
          { class: answer.delivered ? 'ok' : 'error' },
          `${answer.delivered ? 'Delivered' : 'Not delivered'}: ${said}, in ${answer.durationMs} ms.`,
        ),
      );
    } catch (error) {
      const slot = h('p', { class: 'error' });
      showError(slot, error);
      result.replaceChildren(slot);
    }
  });
  return h(
    'section',
    { 'aria-labelledby': 'test-title' },
    h('h2', { id: 'test-title' }, 'Test'),
    h('p', { class: 'hint' }, 'Sends one signed event of type "test" to the script and waits for its answer.'),
    h('p', {}, button),
    result,
  );
}

/** Deliveries that failed for good (newest first): select some or all, and send them again. */
export function failuresSection(loop: Loop): HTMLElement {
  const list = h('div');
  const outcome = h('div', { class: 'result', 'aria-live': 'polite' });
  const refresh = h('button', { type: 'button' }, 'Refresh');
  const load = () =>
    loadInto(list, 'Loading failures…', async () => {
      const path = `/v1/loops/${loop.id}/failures`;
      const { failures, nextCursor } = await api<FailureList>('GET', `${path}?${pageQuery()}`);
      if (!failures.length) return [h('p', {}, 'No failed deliveries.')];
      const table = failureTable(failures);
      const more = moreButton(
        'Show more failures',
        nextCursor,
        async (cursor) => {
          const page = await api<FailureList>('GET', `${path}?${pageQuery(cursor)}`);
          return { items: page.failures, nextCursor: page.nextCursor };
        },
        (items) => table.tBodies[0]!.append(...items.map(failureRow)),
      );
      return [table, more, replayButtons(loop, list, outcome, load)];
    });
  refresh.addEventListener('click', () => busy(refresh, 'Refreshing…', load));
  void load();
  return h(
    'section',
    { 'aria-labelledby': 'failures-title' },
    h('div', { class: 'title' }, h('h2', { id: 'failures-title' }, 'Failures'), refresh),
    h('p', { class: 'hint' }, 'Deliveries that ran out of retries (or met a 410), kept for 14 days.'),
    list,
    outcome,
  );
}

function failureTable(failures: Failure[]): HTMLTableElement {
  const head = ['Select', 'Event', 'Failed at', 'Attempts', 'Last answer'];
  return h(
    'table',
    {},
    h('caption', { class: 'visually-hidden' }, 'Failed deliveries'),
    h('thead', {}, h('tr', {}, ...head.map((text) => h('th', { scope: 'col' }, text)))),
    h('tbody', {}, ...failures.map(failureRow)),
  );
}

function failureRow(failure: Failure): HTMLTableRowElement {
  return h(
    'tr',
    {},
    h(
      'td',
      { 'data-label': 'Select' },
      h('input', {
        type: 'checkbox',
        name: 'failure',
        value: failure.eventId,
        'aria-label': `Select ${failure.type} event ${failure.eventId}`,
      }),
    ),
    h('td', { 'data-label': 'Event' }, h('code', {}, failure.eventId), ` (${failure.type})`),
    h('td', { 'data-label': 'Failed at' }, when(failure.failedAt)),
    h('td', { 'data-label': 'Attempts' }, failure.attempts),
    h('td', { 'data-label': 'Last answer' }, answerInWords(failure.lastStatus, failure.lastError)),
  );
}

function replayButtons(loop: Loop, list: HTMLElement, outcome: HTMLElement, reload: () => Promise<void>) {
  const selected = h('button', { type: 'button' }, 'Replay selected');
  const all = h('button', { type: 'button' }, 'Replay all');
  const replay = async (button: HTMLButtonElement, eventIds?: string[]) => {
    outcome.replaceChildren();
    if (eventIds && !eventIds.length) {
      return outcome.replaceChildren(h('p', { class: 'error', role: 'alert' }, 'Select the failures to replay first.'));
    }
    try {
      const body = eventIds ? { eventIds } : undefined;
      const { replayed, more } = await busy(button, 'Replaying…', () =>
        api<Replayed>('POST', `/v1/loops/${loop.id}/failures/replay`, body),
      );
      await reload();
      outcome.replaceChildren(
        h(
          'p',
          { class: 'ok' },
          `${replayed} ${replayed === 1 ? 'delivery' : 'deliveries'} queued again. `,
          more ? 'More are left than one replay takes: press Replay all again for the next ones. ' : '',
          'A delivery that fails again comes back here.',
        ),
      );
    } catch (error) {
      const slot = h('p', { class: 'error' });
      showError(slot, error);
      outcome.replaceChildren(slot);
    }
  };
  selected.addEventListener('click', () => {
    const ids = [...list.querySelectorAll<HTMLInputElement>('input[name=failure]:checked')].map((box) => box.value);
    void replay(selected, ids);
  });
  all.addEventListener('click', () => void replay(all));
  return h('p', { class: 'actions' }, selected, ' ', all);
}
