import { describe, expect, it } from 'vitest';
import { answerInWords, problemInWords, withLocalTimes } from '../../dashboard/src/words.ts';

/** The dashboard's sentences for what the API says: what a person reads next to a field. */
describe("the dashboard's words", () => {
  it.each([
    ['events', 'must have at least 1 items', 'Choose at least one event type.'],
    ['events', 'must have at least 2 items', 'Choose at least 2 event types.'],
    ['events[1]', 'must not repeat a type', 'Choose each event type only once.'],
    ['url', 'must not be empty', 'Enter the URL of your script.'],
    ['url', 'is required', 'Enter the URL of your script.'],
    ['url', 'ftp URLs are not allowed; use https', 'This URL cannot be used: ftp URLs are not allowed; use https.'],
    [
      'description',
      'must be at most 1000 characters',
      'The description is too long: it can have at most 1,000 characters.',
    ],
    ['format', 'must be one of form, json', 'The format must be one of form, json.'],
    ['colour', 'is not a known field', 'The colour is not something that can be set here.'],
    ['', 'must change at least one of url, events', 'Must change at least one of url, events.'],
  ])('%s "%s" reads "%s"', (path, message, expected) => {
    expect(problemInWords(path, message)).toBe(expected);
  });

  it.each([
    [410, 'HTTP 410', 'HTTP 410'],
    [500, 'HTTP 500: Internal Server Error', 'HTTP 500: Internal Server Error'],
    [502, 'bad gateway', 'HTTP 502: bad gateway'],
    [undefined, 'timed out after 2 s', 'timed out after 2 s'],
    [undefined, undefined, 'no answer'],
    [200, undefined, 'HTTP 200'],
  ])('a receiver that answered %s, "%s", reads "%s"', (status, error, expected) => {
    expect(answerInWords(status, error)).toBe(expected);
  });

  it('says ISO times in text as local times', () => {
    const iso = '2026-12-04T18:20:00.123Z';
    const said = withLocalTimes(`HTTP 410 at ${iso}: the receiver says it is gone.`);
    expect(said).toBe(`HTTP 410 at ${new Date(iso).toLocaleString()}: the receiver says it is gone.`);
    expect(said).not.toContain(iso);
  });
});
