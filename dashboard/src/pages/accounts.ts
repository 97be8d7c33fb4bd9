import { type Account, type AccountList, type ApiKey, type CreatedAccount, api } from '../api.ts';
import { busy, field, h, loadInto, showError, shownOnce, when } from '../dom.ts';

/** The operator's page: accounts, a new account (its key shown once), issuing and revoking keys. */
export async function accountsPage(main: HTMLElement): Promise<void> {
  const list = h('div', { class: 'list' });
  const reload = () =>
    loadInto(list, 'Loading accounts…', async () => {
      const { accounts, nextCursor } = await api<AccountList>('GET', '/v1/accounts?limit=200');
      if (!accounts.length) return [h('p', {}, 'No accounts yet.')];
      const table = accountTable(accounts);
      return [table, moreButton(table, nextCursor)];
    });
  main.append(h('h1', {}, 'Accounts'), createAccountForm(reload), h('h2', {}, 'All accounts'), list);
  await reload();
}

/** "Show more accounts" while the API says there are more (`nextCursor`). */
function moreButton(table: HTMLTableElement, cursor: string | undefined): HTMLElement | null {
  if (!cursor) return null;
  let next: string | undefined = cursor;
  const button = h('button', { type: 'button' }, 'Show more accounts');
  const error = h('p', { class: 'error', hidden: true });
  button.addEventListener('click', async () => {
    try {
      const page = await busy(button, 'Loading…', () =>
        api<AccountList>('GET', `/v1/accounts?limit=200&cursor=${encodeURIComponent(next!)}`),
      );
      table.tBodies[0]!.append(...page.accounts.map(accountRow));
      next = page.nextCursor;
      if (!next) button.remove();
    } catch (problem) {
      showError(error, problem);
    }
  });
  return h('p', {}, button, error);
}

function createAccountForm(reload: () => Promise<void>): HTMLFormElement {
  const name = h('input', { type: 'text', name: 'name', required: true, autocomplete: 'organization' });
  const button = h('button', { type: 'submit' }, 'Create account');
  const result = h('div', { class: 'result' });
  const form = h(
    'form',
    { class: 'card' },
    h('h2', {}, 'New account'),
    field('Name', name),
    h('p', {}, button),
    result,
  );
  form.addEventListener('submit', async (submit) => {
    submit.preventDefault();
    result.replaceChildren();
    try {
      const account = await busy(button, 'Creating…', () =>
        api<CreatedAccount>('POST', '/v1/accounts', { name: name.value.trim() }),
      );
      name.value = '';
      result.replaceChildren(
        h('p', { class: 'ok' }, `Account ${account.name} created (${account.id}), with key ${account.apiKey.id}.`),
        shownOnce('API key', account.apiKey.key, 'Give it to the account now: it is shown only this once.'),
      );
      await reload();
    } catch (error) {
      const slot = h('p', { class: 'error' });
      showError(slot, error);
      result.replaceChildren(slot);
    }
  });
  return form;
}

function accountTable(accounts: Account[]): HTMLTableElement {
  return h(
    'table',
    {},
    h('caption', { class: 'visually-hidden' }, 'Accounts'),
    h('thead', {}, h('tr', {}, ...['Account', 'Created', 'Keys'].map((text) => h('th', { scope: 'col' }, text)))),
    h('tbody', {}, ...accounts.map(accountRow)),
  );
}

function accountRow(account: Account): HTMLTableRowElement {
  const result = h('div', { class: 'result' });
  const revoke = revokeForm(account);
  const issue = h('button', { type: 'button', 'aria-label': `Issue a key for ${account.name}` }, 'Issue key');
  issue.addEventListener('click', async () => {
    result.replaceChildren();
    try {
      const key = await busy(issue, 'Issuing…', () => api<ApiKey>('POST', `/v1/accounts/${account.id}/keys`));
      result.replaceChildren(shownOnce(`API key ${key.id}`, key.key, 'Shown only this once.'));
      revoke.querySelector('input')!.value = key.id;
    } catch (error) {
      const slot = h('p', { class: 'error' });
      showError(slot, error);
      result.replaceChildren(slot);
    }
  });
  return h(
    'tr',
    {},
    h(
      'td',
      { 'data-label': 'Account' },
      h('strong', {}, account.name),
      h('div', { class: 'hint' }, h('code', {}, account.id)),
    ),
    h('td', { 'data-label': 'Created' }, when(account.createdAt)),
    h('td', { 'data-label': 'Keys' }, h('p', {}, issue), result, revoke),
  );
}

/** Revokes a key by its id (`key_…`); the key stops working within the authoriser's cache time. */
function revokeForm(account: Account): HTMLFormElement {
  const input = h('input', { type: 'text', name: 'keyId', required: true, placeholder: 'key_…' });
  const button = h('button', { type: 'submit', class: 'danger' }, 'Revoke key');
  const result = h('div', { class: 'result', 'aria-live': 'polite' });
  const form = h('form', { class: 'inline' }, field(`Key id to revoke (${account.name})`, input), button, result);
  form.addEventListener('submit', async (submit) => {
    submit.preventDefault();
    result.replaceChildren();
    try {
      const id = input.value.trim();
      await busy(button, 'Revoking…', () => api('DELETE', `/v1/accounts/${account.id}/keys/${encodeURIComponent(id)}`));
      result.replaceChildren(h('p', { class: 'ok' }, `Key ${id} revoked: it stops working within 5 minutes.`));
    } catch (error) {
      const slot = h('p', { class: 'error' });
      showError(slot, error);
      result.replaceChildren(slot);
    }
  });
  return form;
}
