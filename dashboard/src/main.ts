/** The dashboard: sign in with a key, then the account's or the operator's pages (hash routes). */
import './styles.css';
import { onUnauthorized } from './api.ts';
import { h } from './dom.ts';
import { accountsPage } from './pages/accounts.ts';
import { logsPage } from './pages/logs.ts';
import { loopPage } from './pages/loop.ts';
import { loopsPage, newLoopPage } from './pages/loops.ts';
import { signInPage } from './pages/sign-in.ts';
import { trackingPage } from './pages/tracking.ts';
import { go } from './router.ts';
import { session } from './session.ts';

const main = document.getElementById('main')!;
const nav = document.getElementById('nav')!;

type Page = (main: HTMLElement, ...params: string[]) => void | Promise<void>;
const ACCOUNT_ROUTES: [RegExp, Page][] = [
  [/^#\/loops$/, loopsPage],
  [/^#\/loops\/new$/, newLoopPage],
  [/^#\/loops\/(loop_[A-Za-z0-9]+)$/, loopPage],
  [/^#\/logs$/, logsPage],
  [/^#\/tracking$/, trackingPage],
];
const ADMIN_ROUTES: [RegExp, Page][] = [[/^#\/accounts$/, accountsPage]];

async function render(): Promise<void> {
  const role = session.role();
  renderNav();
  if (!role) return signInPage(main, (signedInAs) => go(signedInAs === 'admin' ? '#/accounts' : '#/loops'));
  const routes = role === 'admin' ? ADMIN_ROUTES : ACCOUNT_ROUTES;
  for (const [pattern, page] of routes) {
    const found = pattern.exec(location.hash);
    if (found) {
      main.replaceChildren();
      await page(main, ...found.slice(1));
      markCurrent();
      // Where the page starts, for keyboard and screen reader users.
      main.querySelector('h1')?.setAttribute('tabindex', '-1');
      main.querySelector<HTMLElement>('h1')?.focus();
      return;
    }
  }
  go(role === 'admin' ? '#/accounts' : '#/loops');
}

function renderNav(): void {
  const role = session.role();
  if (!role) return nav.replaceChildren();
  const links =
    role === 'admin'
      ? [['#/accounts', 'Accounts']]
      : [
          ['#/loops', 'Loops'],
          ['#/logs', 'Log files'],
          ['#/tracking', 'Tracking'],
        ];
  const signOut = h('button', { type: 'button', class: 'link', onclick: () => signOutNow() }, 'Sign out');
  nav.replaceChildren(
    h('ul', {}, ...links.map(([href, text]) => h('li', {}, h('a', { href: href! }, text!))), h('li', {}, signOut)),
  );
}

function markCurrent(): void {
  for (const link of nav.querySelectorAll('a')) {
    if (location.hash.startsWith(link.getAttribute('href')!)) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function signOutNow(message?: string): void {
  session.signOut();
  history.replaceState(null, '', location.pathname);
  void render().then(() => {
    if (message) main.querySelector('.notice')?.replaceChildren(message);
  });
}

onUnauthorized.handler = () => signOutNow('Your key stopped working (revoked?), so you were signed out.');
// Only "#/…" is a route; other fragments (the skip link's #main) stay in-page links.
addEventListener('hashchange', () => {
  if (location.hash.startsWith('#/') || location.hash === '') void render();
});
void render();
