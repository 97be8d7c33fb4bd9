import { type Loop, type LoopList, api } from '../api.ts';
import { h, loadInto, moreButton, pageQuery } from '../dom.ts';
import { withLocalTimes } from '../words.ts';
import { go } from '../router.ts';
import { loopForm } from './loop-form.ts';
import { rememberSecret } from './loop.ts';

/** The account's loops: status, events and format of each, and a way to add one. */
export async function loopsPage(main: HTMLElement): Promise<void> {
  const list = h('div', { class: 'list' });
  main.append(
    h('div', { class: 'title' }, h('h1', {}, 'Loops'), h('a', { class: 'button', href: '#/loops/new' }, 'New loop')),
    list,
  );
  await loadInto(list, 'Loading loops…', async () => {
    const { loops, nextCursor } = await api<LoopList>('GET', `/v1/loops?${pageQuery()}`);
    if (!loops.length)
      return [h('p', {}, 'No loops yet. ', h('a', { href: '#/loops/new' }, 'Create your first loop'), '.')];
    const table = h(
      'table',
      {},
      h('caption', { class: 'visually-hidden' }, 'Your loops'),
      h(
        'thead',
        {},
        h('tr', {}, ...['Script URL', 'Status', 'Events', 'Format'].map((t) => h('th', { scope: 'col' }, t))),
      ),
      h('tbody', {}, ...loops.map(loopRow)),
    );
    const more = moreButton(
      'Show more loops',
      nextCursor,
      async (cursor) => {
        const page = await api<LoopList>('GET', `/v1/loops?${pageQuery(cursor)}`);
        return { items: page.loops, nextCursor: page.nextCursor };
      },
      (items) => table.tBodies[0]!.append(...items.map(loopRow)),
    );
    return [table, more];
  });
}

function loopRow(loop: Loop): HTMLTableRowElement {
  return h(
    'tr',
    {},
    h(
      'td',
      { 'data-label': 'Script URL' },
      h('a', { href: `#/loops/${loop.id}` }, loop.url),
      loop.description ? h('div', { class: 'hint' }, loop.description) : null,
    ),
    h('td', { 'data-label': 'Status' }, statusBadge(loop)),
    h('td', { 'data-label': 'Events' }, loop.events.join(', ')),
    h('td', { 'data-label': 'Format' }, loop.format),
  );
}

/** unverified / verified / disabled with its reason: a 410's, or the account turned it off. */
export function statusBadge(loop: Loop): HTMLElement {
  if (loop.status === 'disabled') {
    return h(
      'span',
      { class: 'badge disabled' },
      `disabled: ${loop.disabledReason ? withLocalTimes(loop.disabledReason) : 'by the receiver'}`,
    );
  }
  if (!loop.enabled) {
    const unverified = loop.status === 'unverified' ? ' (and unverified)' : '';
    return h('span', { class: 'badge disabled' }, `disabled: turned off${unverified}`);
  }
  return h('span', { class: `badge ${loop.status}` }, loop.status);
}

/** Whether events go out to it (once verified): not turned off, not disabled by a 410. */
export const isActive = (loop: Loop) => loop.enabled && loop.status !== 'disabled';

export function newLoopPage(main: HTMLElement): void {
  const form = loopForm({
    submitText: 'Create loop',
    busyText: 'Creating',
    save: async (fields) => {
      const loop = await api<Loop>('POST', '/v1/loops', fields);
      rememberSecret(loop.id, loop.secret!);
      go(`#/loops/${loop.id}`);
    },
  });
  main.append(
    h('p', {}, h('a', { href: '#/loops' }, '← Loops')),
    h('h1', {}, 'New loop'),
    h('p', {}, 'Events of the types you choose are POSTed to your script, signed, once the loop is verified.'),
    form,
  );
}
