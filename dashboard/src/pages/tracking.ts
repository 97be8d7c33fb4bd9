import { type TrackingSecret, type TrackingUrls, api } from '../api.ts';
import { busy, copy, field, h, onSubmit, shownOnce } from '../dom.ts';

/**
 * The account's tracking (docs/tracking.md): rotate the tracking key (shown once) and make the signed open
 * and click URLs of a message. docs/tracking.md documents the token for making them offline.
 */
export function trackingPage(main: HTMLElement): void {
  main.append(
    h('h1', {}, 'Tracking'),
    h(
      'p',
      { class: 'hint' },
      'Put the open pixel and the click URLs in your messages: each open and click becomes an event, ' +
        'enriched from the message’s sent event, with machine traffic (privacy proxies, link scanners) flagged.',
    ),
    urlsForm(),
    rotateForm(),
  );
}

function urlsForm(): HTMLFormElement {
  const message = h('input', { type: 'text', name: 'message', required: true, maxlength: '128' });
  const links = h('textarea', { name: 'links', rows: '4' });
  const button = h('button', { type: 'submit' }, 'Make URLs');
  const result = h('div', { class: 'result' });
  const form = h(
    'form',
    { class: 'card' },
    h('h2', {}, 'URLs for a message'),
    field('Message id', message, 'The id your sent event gives the message.'),
    field('Links', links, 'One URL per line, http or https.'),
    h('p', {}, button),
    result,
  );
  onSubmit(form, result, async () => {
    const given = links.value
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
    const made = await busy(button, 'Signing…', () =>
      api<TrackingUrls>('POST', '/v1/tracking/urls', { message: message.value, links: given }),
    );
    const rows: [string, string][] = [
      ['Open pixel', made.open],
      ...made.links.map((link): [string, string] => [link.original, link.url]),
    ];
    return [
      h('p', { class: 'ok' }, `Signed with tracking key ${made.keyId}.`),
      h(
        'table',
        {},
        h('caption', { class: 'visually-hidden' }, 'Tracking URLs'),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'For'), h('th', { scope: 'col' }, 'URL'))),
        h('tbody', {}, ...rows.map(([what, url]) => urlRow(what, url))),
      ),
    ];
  });
  return form;
}

function urlRow(what: string, url: string): HTMLTableRowElement {
  const code = h('code', {}, url);
  const status = h('span', { role: 'status', class: 'hint' });
  const button = h('button', { type: 'button', onclick: () => copy(url, code, status) }, 'Copy');
  return h(
    'tr',
    {},
    h('td', { 'data-label': 'For' }, what),
    h('td', { 'data-label': 'URL' }, code, ' ', button, ' ', status),
  );
}

function rotateForm(): HTMLFormElement {
  const revoke = h('input', { type: 'checkbox', name: 'revokePrevious' });
  const button = h('button', { type: 'submit' }, 'Rotate the tracking key');
  const result = h('div', { class: 'result' });
  const form = h(
    'form',
    { class: 'card' },
    h('h2', {}, 'Tracking key'),
    h(
      'p',
      { class: 'hint' },
      'A new key signs every URL from now on; links signed with earlier keys keep working for ' +
        'trackingLinkDays (a year by default), unless you revoke them.',
    ),
    h('div', { class: 'field' }, h('label', {}, revoke, ' Revoke every earlier key: their links stop working')),
    h('p', {}, button),
    result,
  );
  onSubmit(form, result, async () => {
    const rotated = await busy(button, 'Rotating…', () =>
      api<TrackingSecret>('POST', '/v1/tracking/secret/rotate', { revokePrevious: revoke.checked }),
    );
    return [
      h('p', { class: 'ok' }, `New tracking key ${rotated.keyId}.`),
      shownOnce('Tracking key', rotated.secret, 'Copy it now to make URLs offline: it is shown only this once.'),
    ];
  });
  return form;
}
