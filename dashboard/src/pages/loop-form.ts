import { ApiCallError, EVENT_TYPES, type Loop, type LoopInput } from '../api.ts';
import { busy, clearError, field, h, showError, uid } from '../dom.ts';
import { fieldOf, problemInWords } from '../words.ts';

/** What the form sends: the fields of a new loop that it shows. */
export type LoopFields = Required<Pick<LoopInput, 'url' | 'events' | 'format' | 'description'>>;

/**
 * The loop's fields (URL, events, format, description) as a form, for creating or changing a loop.
 * The API's complaints appear under the field they are about (`details[].path`), the rest below.
 */
export function loopForm(options: {
  loop?: Loop;
  submitText: string;
  busyText: string;
  save: (fields: LoopFields) => Promise<void>;
}): HTMLFormElement {
  const { loop } = options;
  const url = h('input', {
    type: 'url',
    name: 'url',
    required: true,
    placeholder: 'https://example.com/hooks/copernica.php',
    value: loop?.url ?? '',
    autocomplete: 'url',
  });
  const legendId = uid('events');
  const events = h(
    'fieldset',
    { class: 'field checks', 'data-field': 'events', 'aria-describedby': `${legendId}-error` },
    h('legend', { id: legendId }, 'Events'),
    ...EVENT_TYPES.map((type) =>
      h(
        'label',
        {},
        h('input', {
          type: 'checkbox',
          name: 'events',
          value: type,
          checked: loop ? loop.events.includes(type) : false,
        }),
        ` ${type}`,
      ),
    ),
    h('p', { class: 'error', id: `${legendId}-error`, hidden: true }),
  );
  const format = h(
    'select',
    { name: 'format' },
    h('option', { value: 'form', selected: loop?.format !== 'json' }, 'form (PHP $_POST)'),
    h('option', { value: 'json', selected: loop?.format === 'json' }, 'json'),
  );
  // The API's limit (LOOP_LIMITS.descriptionMaxLength; the bundle holds no zod to import it from).
  const description = h('input', {
    type: 'text',
    name: 'description',
    value: loop?.description ?? '',
    maxlength: 1000,
  });
  const button = h('button', { type: 'submit' }, options.submitText);
  const formError = h('p', { class: 'error', hidden: true });
  const form = h(
    'form',
    { class: 'card', novalidate: true },
    field('Script URL', url, 'Where events are POSTed, e.g. your PHP script.'),
    events,
    field('Format', format),
    field('Description (optional)', description),
    h('p', {}, button),
    formError,
  );
  form.addEventListener('submit', async (submit) => {
    submit.preventDefault();
    for (const slot of form.querySelectorAll<HTMLElement>('.error')) clearError(slot);
    for (const control of form.querySelectorAll('[aria-invalid]')) control.removeAttribute('aria-invalid');
    const fields: LoopFields = {
      url: url.value.trim(),
      events: [...form.querySelectorAll<HTMLInputElement>('input[name=events]:checked')].map(
        (box) => box.value as LoopFields['events'][number],
      ),
      format: format.value as LoopFields['format'],
      description: description.value,
    };
    try {
      await busy(button, `${options.busyText}…`, () => options.save(fields));
    } catch (error) {
      showFieldErrors(form, formError, error);
    }
  });
  return form;
}

/** Each detail under its field (`events[2]` → events); whatever has no field goes to `fallback`. */
function showFieldErrors(form: HTMLFormElement, fallback: HTMLElement, error: unknown): void {
  const details = error instanceof ApiCallError ? error.details : [];
  const unplaced = [];
  for (const detail of details) {
    const name = fieldOf(detail.path);
    const slot = form.querySelector<HTMLElement>(`[data-field="${CSS.escape(name)}"] .error`);
    if (!slot) {
      unplaced.push(detail);
      continue;
    }
    slot.hidden = false;
    slot.setAttribute('role', 'alert');
    slot.append(h('span', {}, problemInWords(detail.path, detail.message), ' '));
    form.querySelector<HTMLElement>(`[name="${CSS.escape(name)}"]`)?.setAttribute('aria-invalid', 'true');
  }
  if (!details.length) return showError(fallback, error);
  if (!unplaced.length) {
    // Each problem is said under its field; the API's summary ("1 problem (see details)") says nothing more.
    form.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
    return;
  }
  const summary = 'Please correct this:';
  showError(
    fallback,
    new ApiCallError((error as ApiCallError).status, (error as ApiCallError).code, summary, unplaced),
  );
}
