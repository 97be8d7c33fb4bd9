import { type Account, type AccountList, type ApiKey, type ApiKeyList, type CreatedAccount, api } from '../api.ts';
import { busy, confirmation, field, h, loadInto, moreButton, pageQuery, showError, shownOnce, when } from '../dom.ts';

/** The operator's page: accounts, a new account (its key shown once), issuing and revoking keys. */
export async function accountsPage(main: HTMLElement): Promise<void> {
  const list = h('div', { class: 'list' });
  const reload = () =>
    loadInto(list, 'Loading accounts…', async () => {
      const { accounts, nextCursor } = await api<AccountList>('GET', `/v1/accounts?${pageQuery()}`);
      if (!accounts.length) return [h('p', {}, 'No accounts yet.')];
      const table = accountTable(accounts);
      const more = moreButton(
        'Show more accounts',
        nextCursor,
        async (cursor) => {
          const page = await api<AccountList>('GET', `/v1/accounts?${pageQuery(cursor)}`);
          return { items: page.accounts, nextCursor: page.nextCursor };
        },
        (items) => table.tBodies[0]!.append(...items.map(accountRow)),
      );
      return [table, more];
    });
  main.append(h('h1', {}, 'Accounts'), createAccountForm(reload), h('h2', {}, 'All accounts'), list);
  await reload();
}

function createAccountForm(reload: (notice?: string) => Promise<void>): HTMLFormElement {
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
  const keys = h('div', { class: 'keys' });
  const showKeys = (notice?: string) => loadInto(keys, 'Loading keys…', () => keyList(account, showKeys, notice));
  // The visible label starts the accessible name (WCAG 2.5.3), the account's name tells rows apart.
  const issue = h('button', { type: 'button', 'aria-label': `Issue key for ${account.name}` }, 'Issue key');
  const list = h('button', { type: 'button', 'aria-label': `Show keys of ${account.name}` }, 'Show keys');
  list.addEventListener('click', () => busy(list, 'Loading…', () => showKeys()));
  issue.addEventListener('click', async () => {
    result.replaceChildren();
    try {
      const key = await busy(issue, 'Issuing…', () => api<ApiKey>('POST', `/v1/accounts/${account.id}/keys`));
      result.replaceChildren(shownOnce(`API key ${key.id}`, key.key, 'Shown only this once.'));
      await showKeys();
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
    h('td', { 'data-label': 'Keys' }, h('p', { class: 'buttons' }, issue, list), result, keys),
  );
}

/** The account's key ids (never the keys), each with a Revoke button that asks first. */
async function keyList(
  account: Account,
  reload: (notice?: string) => Promise<void>,
  notice?: string,
): Promise<(Node | null)[]> {
  const { keys, nextCursor } = await api<ApiKeyList>('GET', `/v1/accounts/${account.id}/keys?${pageQuery()}`);
  const said = notice ? confirmation(notice) : null;
  if (!keys.length) return [said, h('p', {}, 'This account has no keys: issue one to let it call the API.')];
  const items = h('ul', { class: 'key-list', 'aria-label': `Keys of ${account.name}` });
  const append = (page: ApiKeyList['keys']) => items.append(...page.map((key) => keyItem(account, key, reload)));
  append(keys);
  const more = moreButton(
    'Show more keys',
    nextCursor,
    async (cursor) => {
      const page = await api<ApiKeyList>('GET', `/v1/accounts/${account.id}/keys?${pageQuery(cursor)}`);
      return { items: page.keys, nextCursor: page.nextCursor };
    },
    append,
  );
  return [said, items, more];
}

function keyItem(account: Account, key: { id: string; createdAt: string }, reload: (notice?: string) => Promise<void>) {
  const result = h('div', { class: 'result', 'aria-live': 'polite' });
  const revoke = h('button', { type: 'button', class: 'danger', 'aria-label': `Revoke key ${key.id}` }, 'Revoke…');
  revoke.addEventListener('click', () => confirmRevoke(account, key.id, result, revoke, reload));
  return h(
    'li',
    {},
    h('code', {}, key.id),
    h('span', { class: 'hint' }, ` issued ${when(key.createdAt)} `),
    revoke,
    result,
  );
}

/** Revoking asks first; the key stops working within the authoriser's cache time (5 minutes). */
function confirmRevoke(
  account: Account,
  keyId: string,
  result: HTMLElement,
  revoke: HTMLButtonElement,
  reload: (notice?: string) => Promise<void>,
): void {
  const yes = h('button', { type: 'button', class: 'danger' }, 'Yes, revoke this key');
  const no = h('button', { type: 'button' }, 'Cancel');
  no.addEventListener('click', () => {
    result.replaceChildren();
    revoke.focus();
  });
  yes.addEventListener('click', async () => {
    try {
      await busy(yes, 'Revoking…', () => api('DELETE', `/v1/accounts/${account.id}/keys/${encodeURIComponent(keyId)}`));
    } catch (error) {
      const slot = h('p', { class: 'error' });
      showError(slot, error);
      result.replaceChildren(slot);
      return;
    }
    await reload(`Key ${keyId} revoked: it stops working within 5 minutes.`);
  });
  result.replaceChildren(
    h(
      'div',
      { class: 'confirm', role: 'alertdialog', 'aria-label': `Confirm revoking key ${keyId}` },
      h(
        'p',
        {},
        `Revoke key ${keyId} of ${account.name}? Whatever uses it stops working within 5 minutes; this cannot be undone.`,
      ),
      h('p', {}, yes, ' ', no),
    ),
  );
  no.focus();
}
