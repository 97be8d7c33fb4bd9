import { api, ApiCallError, type Loop } from '../api.ts';
import { busy, copy, h, saveFile, showError, when } from '../dom.ts';
import { go } from '../router.ts';

/**
 * How to verify a loop: the file to place, the two places it may go, and a check on demand that
 * shows what each place answered.
 */
export function verificationSection(loop: Loop): HTMLElement {
  const { file, content, locations } = loop.verification;
  const status = h('span', { role: 'status', class: 'hint' });
  const nameCode = h('code', {}, file);
  const contentCode = h('code', { class: 'secret' }, content);
  const check = h('button', { type: 'button', class: 'primary' }, 'Check now');
  const answers = h('div', { class: 'result', 'aria-live': 'polite' });
  const lastCheck = h(
    'span',
    {},
    loop.verification.lastCheckedAt ? `Last checked ${when(loop.verification.lastCheckedAt)}` : 'Not checked yet.',
    loop.verification.lastError ? `: ${loop.verification.lastError}` : '',
  );
  check.addEventListener('click', async () => {
    answers.replaceChildren();
    try {
      await busy(check, 'Checking…', () => api<Loop>('POST', `/v1/loops/${loop.id}/verify`));
      answers.replaceChildren(h('p', { class: 'ok' }, 'Verified. Events are now sent to your script.'));
      setTimeout(() => go(`#/loops/${loop.id}`), 1200);
    } catch (error) {
      answers.replaceChildren(checkFailure(error));
      // What was just found stays said below too, not the "not checked yet" of before the click.
      if (error instanceof ApiCallError && error.code === 'verification_failed') {
        lastCheck.replaceChildren(`Last checked ${when(new Date().toISOString())}: not found (see above).`);
      }
    }
  });
  return h(
    'section',
    { 'aria-labelledby': 'verify-title', class: 'card' },
    h('h2', { id: 'verify-title' }, 'Verify that the script is yours'),
    h('p', {}, 'Nothing is sent to this loop until it is verified. Put this file on your server:'),
    h(
      'dl',
      {},
      h('dt', {}, 'File name'),
      h(
        'dd',
        {},
        nameCode,
        ' ',
        h('button', { type: 'button', onclick: () => copy(file, nameCode, status) }, 'Copy file name'),
      ),
      h('dt', {}, 'Content'),
      h(
        'dd',
        {},
        contentCode,
        ' ',
        h('button', { type: 'button', onclick: () => copy(content, contentCode, status) }, 'Copy content'),
        ' ',
        h('button', { type: 'button', onclick: () => saveFile(file, `${content}\n`) }, 'Download the file'),
      ),
    ),
    status,
    h('p', {}, 'in either of these places (one is enough):'),
    h('ul', { class: 'locations' }, ...locations.map((location) => h('li', {}, h('code', {}, location)))),
    h('p', {}, check),
    answers,
    h(
      'p',
      { class: 'hint' },
      'It is also checked by itself every 5 minutes for 7 days after the loop was created or its URL changed. ',
      lastCheck,
    ),
  );
}

/** A failed check: what each location answered (from the error's details), in a list. */
function checkFailure(error: unknown): HTMLElement {
  const box = h('div', { class: 'error', role: 'alert' });
  if (error instanceof ApiCallError && error.code === 'verification_failed') {
    box.append(
      h('p', {}, 'The file was not found, so the loop is not verified yet. What each location answered:'),
      h('ul', {}, ...error.details.map((detail) => h('li', {}, detail.message))),
    );
  } else {
    showError(box, error);
  }
  return box;
}
