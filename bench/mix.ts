import { seededRandom } from '../local/seeded-random.ts';

/**
 * The realistic mix of the cost goal: per message one `sent` and one `delivery`, an `open` for 30 %
 * of messages and a `click` for 5 %, each event about 1 KB of JSON, in the order a mail system sends
 * them (sents and deliveries first, opens and clicks later and shuffled). Deterministic.
 */
export const MIX = { open: 0.3, click: 0.05 };

/** A small deterministic generator, so every run measures the same stream. */
export const random = seededRandom;

const WORDS = (
  'newsletter offers product updates events travel sports music books garden cooking fashion finance ' +
  'health family cinema theatre running cycling photography wine coffee design science history gaming'
).split(' ');

/**
 * Profile fields of the recipient, padded so that the event is about 1 KB. The padding is words
 * drawn at random, so it compresses about as well as real profile text (2–3×), not like one
 * phrase repeated: stored contexts are deflated, and a repeated phrase would flatter them.
 */
function fields(i: number, room: number): Record<string, string | number> {
  const base = { firstname: 'Jane', lastname: 'Doe', city: 'Amsterdam', plan: 'pro', age: 20 + (i % 50) };
  const next = random(i + 1);
  let interests = '';
  while (interests.length < room)
    interests += `${WORDS[Math.floor(next() * WORDS.length)]} ${Math.floor(next() * 1e6)}, `;
  return { ...base, interests: interests.slice(0, room - JSON.stringify(base).length) };
}

export function mailing(messages: number, seed = 42): Record<string, unknown>[] {
  const next = random(seed);
  const early: Record<string, unknown>[] = [];
  const late: Record<string, unknown>[] = [];
  const sized = (event: Record<string, unknown>, i: number) => {
    const room = 1024 - JSON.stringify(event).length - 12;
    return { ...event, fields: fields(i, room) };
  };
  for (let i = 0; i < messages; i++) {
    const message = `msg-${seed}-${i}`;
    const recipient = `user${i}@example.com`;
    early.push(
      sized({ type: 'sent', message, recipient, profile: `profile-${i}`, tags: ['newsletter', 'november'] }, i),
    );
    // The delivery report follows its sent a few messages later.
    early.splice(Math.max(0, early.length - Math.floor(next() * 20)), 0, sized({ type: 'delivery', message }, i));
    const click = {
      ip: '198.51.100.7',
      useragent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15',
    };
    if (next() < MIX.open) late.push(sized({ type: 'open', message, ...click }, i));
    if (next() < MIX.click) {
      late.push(sized({ type: 'click', message, ...click, original: `https://example.com/offer/${i}?utm=mail` }, i));
    }
  }
  for (let i = late.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [late[i], late[j]] = [late[j]!, late[i]!];
  }
  return [...early, ...late];
}
