import { type Download, type LogFile, type LogList, api } from '../api.ts';
import { busy, field, h, loadInto, showError } from '../dom.ts';

const FORMATS = ['json', 'csv', 'xml'] as const;

/** The days that have log files; a day's files, each downloadable as JSON Lines, CSV or XML. */
export async function logsPage(main: HTMLElement): Promise<void> {
  const days = h('div');
  const files = h('div');
  main.append(
    h('h1', {}, 'Log files'),
    h('p', { class: 'hint' }, 'Every accepted event, per UTC day and type, within a minute or so of its arrival.'),
    days,
    files,
  );
  await loadInto(days, 'Loading dates…', async () => {
    const { dates } = await api<Extract<LogList, { dates: unknown }>>('GET', '/v1/logfiles');
    if (!dates.length) return [h('p', {}, 'No log files yet: they appear once events have been accepted.')];
    const select = h('select', { name: 'date' }, ...dates.map((date) => h('option', { value: date }, date)));
    const show = () => loadInto(files, 'Loading files…', () => dayFiles(select.value));
    select.addEventListener('change', show);
    void show();
    return [field('Day (UTC)', select)];
  });
}

async function dayFiles(date: string): Promise<Node[]> {
  const { files } = await api<Extract<LogList, { files: unknown }>>(
    'GET',
    `/v1/logfiles?date=${encodeURIComponent(date)}`,
  );
  if (!files.length) return [h('p', {}, `No files for ${date}.`)];
  const head = ['File', 'Records', 'Size', 'Complete', 'Download'];
  return [
    h(
      'table',
      {},
      h('caption', { class: 'visually-hidden' }, `Log files of ${date}`),
      h('thead', {}, h('tr', {}, ...head.map((text) => h('th', { scope: 'col' }, text)))),
      h('tbody', {}, ...files.map(fileRow)),
    ),
  ];
}

function fileRow(file: LogFile): HTMLTableRowElement {
  const error = h('p', { class: 'error', hidden: true });
  const buttons = FORMATS.map((format) => {
    const button = h(
      'button',
      { type: 'button', 'aria-label': `Download ${file.name} as ${format.toUpperCase()}` },
      format.toUpperCase(),
    );
    button.addEventListener('click', () => download(button, file, format, error));
    return button;
  });
  return h(
    'tr',
    {},
    h('td', { 'data-label': 'File' }, h('code', {}, file.name)),
    h('td', { 'data-label': 'Records' }, file.records.toLocaleString()),
    h('td', { 'data-label': 'Size' }, bytes(file.size)),
    h('td', { 'data-label': 'Complete' }, file.complete ? 'yes' : 'not yet (the day is open)'),
    h('td', { 'data-label': 'Download' }, h('span', { class: 'buttons' }, ...buttons), error),
  );
}

/** Asks for a presigned URL (valid for minutes) and lets the browser fetch the file from it. */
async function download(button: HTMLButtonElement, file: LogFile, format: string, error: HTMLElement) {
  error.hidden = true;
  try {
    const { url } = await busy(button, 'Preparing…', () =>
      api<Download>('GET', `/v1/logfiles/${encodeURIComponent(file.name)}?format=${format}&redirect=false`),
    );
    location.assign(url);
  } catch (problem) {
    showError(error, problem);
  }
}

function bytes(size: number): string {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KB`;
  return `${(size / 1024 / 1024).toFixed(1)} MB`;
}
