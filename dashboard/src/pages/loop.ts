import { type Loop, type Secret, api } from '../api.ts';
import { busy, confirmation, h, loadInto, showError, shownOnce, when } from '../dom.ts';
import { go } from '../router.ts';
import { failuresSection, testSection } from './deliveries.ts';
import { loopForm } from './loop-form.ts';
import { isActive, statusBadge } from './loops.ts';
import { verificationSection } from './verification.ts';

/** A secret from the create answer, shown once on the loop's page and then forgotten. */
const freshSecrets = new Map<string, string>();
export const rememberSecret = (loopId: string, secret: string) => freshSecrets.set(loopId, secret);
/** What the last change did ("Changes saved."), said once on the page rendered after it. */
const notices = new Map<string, string>();
const afterChange = (loopId: string, notice: string) => {
  notices.set(loopId, notice);
  go(`#/loops/${loopId}`);
};

/** One loop: its secret (once), verification, test, failures, and its settings. */
export async function loopPage(main: HTMLElement, loopId: string): Promise<void> {
  const body = h('div');
  main.append(h('p', {}, h('a', { href: '#/loops' }, '← Loops')), body);
  await loadInto(body, 'Loading the loop…', async () => {
    const loop = await api<Loop>('GET', `/v1/loops/${loopId}`);
    const secret = freshSecrets.get(loopId);
    freshSecrets.delete(loopId);
    const notice = notices.get(loopId);
    notices.delete(loopId);
    return [
      h('h1', {}, 'Loop ', h('span', { class: 'url' }, loop.url)),
      notice ? confirmation(notice) : null,
      h(
        'p',
        {},
        statusBadge(loop),
        ` · ${loop.events.join(', ')} · ${loop.format}`,
        loop.description ? ` · ${loop.description}` : '',
      ),
      secret
        ? shownOnce(
            'Signing secret',
            secret,
            'Copy it now: it is shown only this once. Your script checks the webhook-signature header with it.',
          )
        : null,
      loop.status === 'unverified' ? verificationSection(loop) : null,
      loop.status === 'verified' ? testSection(loop) : null,
      failuresSection(loop),
      settingsSection(loop),
    ];
  });
}

function settingsSection(loop: Loop): HTMLElement {
  const form = loopForm({
    loop,
    submitText: 'Save changes',
    busyText: 'Saving',
    save: async (fields) => {
      // Only what changed: the same URL sent again must not look like a new one.
      const changed = Object.fromEntries(
        Object.entries(fields).filter(([name, value]) => String(value) !== String(loop[name as keyof Loop])),
      );
      await api('PATCH', `/v1/loops/${loop.id}`, changed);
      afterChange(loop.id, changed.url ? 'Changes saved. The new URL needs verifying again.' : 'Changes saved.');
    },
  });
  return h(
    'section',
    { 'aria-labelledby': 'settings-title' },
    h('h2', { id: 'settings-title' }, 'Settings'),
    h('p', { class: 'hint' }, 'A new URL needs verifying again. Created ', when(loop.createdAt), '.'),
    form,
    actions(loop),
  );
}

function actions(loop: Loop): HTMLElement {
  const result = h('div', { class: 'result' });
  const active = isActive(loop);
  const toggle = h('button', { type: 'button' }, active ? 'Disable loop' : 'Enable loop');
  toggle.addEventListener('click', () =>
    act(toggle, active ? 'Disabling…' : 'Enabling…', result, async () => {
      const changed = await api<Loop>('PATCH', `/v1/loops/${loop.id}`, { enabled: !active });
      afterChange(loop.id, active ? disabledNotice : enabledNotice(changed));
    }),
  );
  const rotate = h('button', { type: 'button' }, 'Rotate secret');
  rotate.addEventListener('click', () =>
    act(rotate, 'Rotating…', result, async () => {
      const { secret } = await api<Secret>('POST', `/v1/loops/${loop.id}/secret/rotate`);
      result.replaceChildren(
        shownOnce(
          'New signing secret',
          secret,
          'Shown only now. The previous secret keeps signing alongside for 24 hours.',
        ),
      );
    }),
  );
  const remove = h('button', { type: 'button', class: 'danger' }, 'Delete loop…');
  remove.addEventListener('click', () => confirmDelete(loop, result));
  return h('div', { class: 'actions' }, h('p', {}, toggle, ' ', rotate, ' ', remove), result);
}

const disabledNotice = 'Loop disabled: nothing is sent to it until you enable it again.';
const enabledNotice = (loop: Loop) =>
  loop.status === 'verified'
    ? 'Loop enabled: events are sent to it again.'
    : 'Loop enabled: events are sent to it once it is verified.';

/** Deleting asks first, in the page (a real button to confirm, another to keep the loop). */
function confirmDelete(loop: Loop, result: HTMLElement): void {
  const yes = h('button', { type: 'button', class: 'danger' }, 'Yes, delete this loop');
  const no = h('button', { type: 'button' }, 'Cancel');
  yes.addEventListener('click', () =>
    act(yes, 'Deleting…', result, async () => {
      await api('DELETE', `/v1/loops/${loop.id}`);
      go('#/loops');
    }),
  );
  no.addEventListener('click', () => result.replaceChildren());
  result.replaceChildren(
    h(
      'div',
      { class: 'confirm', role: 'alertdialog', 'aria-label': 'Confirm deleting the loop' },
      h('p', {}, `Delete the loop to ${loop.url}? Nothing more is sent to it, and this cannot be undone.`),
      h('p', {}, yes, ' ', no),
    ),
  );
  no.focus();
}

async function act(button: HTMLButtonElement, text: string, result: HTMLElement, work: () => Promise<void>) {
  const error = h('p', { class: 'error' });
  try {
    await busy(button, text, work);
  } catch (problem) {
    showError(error, problem);
    result.replaceChildren(error);
  }
}
