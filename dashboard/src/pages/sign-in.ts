import { api, ApiCallError } from '../api.ts';
import { busy, clearError, field, h, showError } from '../dom.ts';
import { type Role, session } from '../session.ts';

/** Signs in with an account key or the admin key: which one it is, the API says. */
export function signInPage(main: HTMLElement, signedIn: (role: Role) => void): void {
  const input = h('input', {
    type: 'password',
    name: 'key',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
  });
  const error = h('p', { class: 'error', hidden: true });
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    { class: 'card narrow' },
    field('API key', input, 'Your account key, or the admin key for the operator pages. It is kept in this tab only.'),
    h('p', {}, button),
    error,
  );
  form.addEventListener('submit', async (submit) => {
    submit.preventDefault();
    clearError(error);
    const key = input.value.trim();
    if (!key) return showError(error, new Error('Enter a key.'));
    try {
      const role = await busy(button, 'Signing in…', () => whoIs(key));
      session.signIn(key, role);
      signedIn(role);
    } catch (problem) {
      showError(error, problem);
      input.focus();
    }
  });
  main.replaceChildren(
    h('h1', {}, 'Sign in'),
    h('p', { class: 'notice', role: 'status' }),
    form,
    h(
      'p',
      { class: 'hint' },
      'The API itself is described at ',
      h('a', { href: '/v1/openapi.json' }, '/v1/openapi.json'),
      '.',
    ),
  );
  input.focus();
}

/**
 * Account keys are `fl_…`; the admin key is not. The key's shape picks the list it should be allowed
 * (loops for an account, accounts for the operator), so a right key meets no 403 on the way in;
 * should the guess ever be wrong (403), the other list decides.
 */
async function whoIs(key: string): Promise<Role> {
  const [first, second]: [Role, Role] = key.startsWith('fl_') ? ['account', 'admin'] : ['admin', 'account'];
  try {
    await probe(first, key);
    return first;
  } catch (error) {
    if (!(error instanceof ApiCallError) || error.status !== 403) throw error;
    await probe(second, key);
    return second;
  }
}

const probe = (role: Role, key: string) =>
  api('GET', role === 'admin' ? '/v1/accounts?limit=1' : '/v1/loops?limit=1', undefined, key);
