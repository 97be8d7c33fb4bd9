/** A few DOM helpers: elements, loading states and errors shown next to what caused them. */
import { ApiCallError } from './api.ts';
import { problemInWords } from './words.ts';

export { when } from './words.ts';

type Child = Node | string | number | null | undefined | false;
type Props = Record<string, string | number | boolean | undefined | EventListener>;

/** `h('button', { type: 'button', onclick }, 'Save')`: attributes, `on…` listeners, children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, '');
    else if (value !== false && value !== undefined) element.setAttribute(name, String(value));
  }
  element.append(...children.filter((child) => child !== null && child !== undefined && child !== false).map(asNode));
  return element;
}

function asNode(child: Exclude<Child, null | undefined | false>): Node | string {
  return typeof child === 'number' ? String(child) : typeof child === 'string' ? showBidiControls(child) : child;
}

/** Bidi embeddings, overrides and isolates: U+202A–U+202E, U+2066–U+2069. */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;

/**
 * Text with its bidi controls shown as what they are (`[U+202E]`), so that a description or a name
 * from the API cannot reverse or reorder what it is shown with. Every text `h` puts in the page goes
 * through here; the text itself is kept as it is (a form shows the value to change).
 */
export function showBidiControls(text: string): string {
  return text.replace(BIDI_CONTROLS, (control) => `[U+${control.codePointAt(0)!.toString(16).toUpperCase()}]`);
}

let ids = 0;
/** A unique id for label/aria links. */
export const uid = (prefix: string) => `${prefix}-${++ids}`;

/** A labelled input: the label, the control, a hint and a slot for its error. */
export function field(label: string, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, hint = '') {
  control.id ||= uid('f');
  const error = h('p', { class: 'error', id: `${control.id}-error`, hidden: true });
  const hintEl = hint ? h('p', { class: 'hint', id: `${control.id}-hint` }, hint) : null;
  control.setAttribute('aria-describedby', [hintEl?.id, error.id].filter(Boolean).join(' '));
  return h(
    'div',
    { class: 'field', 'data-field': control.name },
    h('label', { for: control.id }, label),
    control,
    hintEl,
    error,
  );
}

/** Puts an API error in words into `slot` (an element next to the control that caused it). */
export function showError(slot: HTMLElement, error: unknown): void {
  slot.hidden = false;
  slot.setAttribute('role', 'alert');
  slot.replaceChildren(errorText(error));
  if (error instanceof ApiCallError && error.details.length) {
    slot.append(h('ul', {}, ...error.details.map((d) => h('li', {}, problemInWords(d.path, d.message)))));
  }
}

/** Replaces what `region` shows (a form's result) with the error in words. */
export function showErrorIn(region: HTMLElement, error: unknown): void {
  const slot = h('p', { class: 'error' });
  showError(slot, error);
  region.replaceChildren(slot);
}

/** On submit: the nodes `work` makes become the form's result; an error is shown there in words. */
export function onSubmit(form: HTMLFormElement, result: HTMLElement, work: () => Promise<Node[]>): void {
  form.addEventListener('submit', async (submit) => {
    submit.preventDefault();
    result.replaceChildren();
    try {
      result.replaceChildren(...(await work()));
    } catch (error) {
      showErrorIn(result, error);
    }
  });
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function clearError(slot: HTMLElement): void {
  slot.hidden = true;
  slot.replaceChildren();
}

/**
 * Runs `work` for a button: the button is disabled meanwhile, and when it takes longer than 200 ms
 * it says `busyText`, with aria-busy set on the region it changes.
 */
export async function busy<T>(button: HTMLButtonElement, busyText: string, work: () => Promise<T>): Promise<T> {
  const label = button.textContent;
  button.disabled = true;
  const timer = setTimeout(() => {
    button.textContent = busyText;
    button.setAttribute('aria-busy', 'true');
  }, 200);
  try {
    return await work();
  } finally {
    clearTimeout(timer);
    button.textContent = label;
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

/** A region that says `text` if loading takes longer than 200 ms, then shows what `load` built. */
export async function loadInto(region: HTMLElement, text: string, load: () => Promise<(Node | null)[]>): Promise<void> {
  region.setAttribute('aria-busy', 'true');
  const timer = setTimeout(() => region.replaceChildren(h('p', { class: 'loading', role: 'status' }, text)), 200);
  try {
    region.replaceChildren(...(await load()).filter((node) => node !== null));
  } catch (error) {
    const slot = h('p', { class: 'error' });
    showError(slot, error);
    region.replaceChildren(slot);
  } finally {
    clearTimeout(timer);
    region.removeAttribute('aria-busy');
  }
}

/** Copies `text`; where the clipboard is unavailable, selects it in `source` for Ctrl+C. */
export async function copy(text: string, source: HTMLElement, status: HTMLElement): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    status.textContent = 'Copied.';
  } catch {
    const range = document.createRange();
    range.selectNodeContents(source);
    getSelection()?.removeAllRanges();
    getSelection()?.addRange(range);
    status.textContent = 'Selected: press Ctrl+C (⌘C) to copy.';
  }
}

/** A secret or key shown once, with a copy button. */
export function shownOnce(label: string, value: string, warning: string): HTMLElement {
  const code = h('code', { class: 'secret' }, value);
  const status = h('span', { role: 'status', class: 'hint' });
  const button = h('button', { type: 'button', onclick: () => copy(value, code, status) }, `Copy ${label}`);
  return h(
    'div',
    { class: 'once' },
    h('p', {}, h('strong', {}, label), ' ', warning),
    code,
    h('p', {}, button, ' ', status),
  );
}

/** Saves `content` as a file called `name` in the browser's downloads. */
export function saveFile(name: string, content: string): void {
  const url = URL.createObjectURL(new Blob([content], { type: 'text/plain' }));
  const link = h('a', { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * "Show more …" while the API says there are more (`nextCursor`): each click fetches the next page
 * and hands its items to `append`. Null when there is no next page.
 */
export function moreButton<T>(
  label: string,
  cursor: string | undefined,
  fetchPage: (cursor: string) => Promise<{ items: T[]; nextCursor?: string }>,
  append: (items: T[]) => void,
): HTMLElement | null {
  if (!cursor) return null;
  let next = cursor;
  const button = h('button', { type: 'button' }, label);
  const error = h('p', { class: 'error', hidden: true });
  const wrapper = h('p', { class: 'more' }, button, error);
  button.addEventListener('click', async () => {
    clearError(error);
    try {
      const page = await busy(button, 'Loading…', () => fetchPage(next));
      append(page.items);
      if (page.nextCursor) next = page.nextCursor;
      else wrapper.remove();
    } catch (problem) {
      showError(error, problem);
    }
  });
  return wrapper;
}

/** `?limit=200&cursor=…` for a list's next page. */
export const pageQuery = (cursor?: string) => `limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;

/** A short message that stays until the page is rendered again (a save, an enable). */
export function confirmation(text: string): HTMLElement {
  return h('p', { class: 'ok', role: 'status' }, text);
}
