import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

describe('docs/tracking.md', () => {
  // The twin tests run the files (test/twin/tracking.test.ts); the page shows them as they are.
  it.each([
    'examples/tracking/tracking-url.php',
    'examples/tracking/tracking-url.mjs',
    'examples/tracking/tracking_url.py',
  ])('shows %s as it is', (file) => {
    expect(read('docs/tracking.md')).toContain(read(file).trimEnd());
  });
});
