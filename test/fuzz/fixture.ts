import { EVENT_TYPES } from '#shared/events/event-types.ts';
import type { Loopback } from '../support/loopback.ts';
import type { RawClient } from './http.ts';
import { NO_SUCH } from './model.ts';

type Side = 'A' | 'B';

/** The message and link of A's tracking URLs: its opens and clicks reach A's loop (runner.ts knows them). */
export const TRACKED_MESSAGE = 'fztrack';
export const TRACKED_LINK = 'https://fuzz.example.com/signed?x=1';

/** A click token with one part changed at a time (the signature kept), and unsigned. */
function tamperedTokens(token: string, otherAccount: string): Record<string, string> {
  const [payload, signature] = token.split('.') as [string, string];
  const parts = Buffer.from(payload, 'base64url').toString('utf8').split('\u0000');
  const withPart = (index: number, value: string) => {
    const changed = [...parts];
    changed[index] = value;
    return `${Buffer.from(changed.join('\u0000')).toString('base64url')}.${signature}`;
  };
  const flipped = Buffer.from(signature, 'base64url');
  flipped[0] = flipped[0]! ^ 1;
  return {
    'A.clickToken.keyId': withPart(0, 'zzzzzzzz'),
    'A.clickToken.account': withPart(1, otherAccount),
    'A.clickToken.message': withPart(2, 'fzother'),
    'A.clickToken.url': withPart(3, 'https://evil.example.com/'),
    'A.clickToken.signature': `${payload}.${flipped.toString('base64url')}`,
    'A.clickToken.unsigned': payload,
  };
}
const encode = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/**
 * What the fuzz runs against: account A ("the account": two keys, a verified loop that takes every
 * type but abuse, an unverified one, a scratch loop that valid PATCHes change) and account B ("the
 * other account": a verified and an unverified loop), a revoked key, real and forged cursors. It
 * resolves the requests' `{{tokens}}`, and follows what valid writes created.
 */
export class Fixture {
  readonly ids: Record<string, string> = {};
  readonly keys: Record<string, string> = {};
  readonly cursors: Record<string, string> = {};
  /** Loops and keys of A that valid requests of the run created (and may delete). */
  readonly created: string[] = [];
  readonly createdKeys: string[] = [];

  private constructor(
    private readonly client: RawClient,
    readonly receiver: Loopback,
    adminKey: string,
  ) {
    this.keys.admin = adminKey;
  }

  static async create(client: RawClient, receiver: Loopback, adminKey: string): Promise<Fixture> {
    const fixture = new Fixture(client, receiver, adminKey);
    await fixture.setUp();
    return fixture;
  }

  private async setUp() {
    const { client, keys, ids } = this;
    for (const side of ['A', 'B'] as const) {
      const account = await client.json('POST', '/v1/accounts', keys.admin, { name: `Fuzz ${side}` }, [201]);
      ids[`${side}.accountId`] = account.id;
      ids[`${side}.keyId`] = account.apiKey.id;
      keys[side] = account.apiKey.key;
    }
    const second = await client.json('POST', `/v1/accounts/${ids['A.accountId']}/keys`, keys.admin, undefined, [201]);
    keys.A2 = second.key;
    // Never used before it is revoked, so no authoriser remembers it.
    const revoked = await client.json('POST', `/v1/accounts/${ids['B.accountId']}/keys`, keys.admin, undefined, [201]);
    await client.json('DELETE', `/v1/accounts/${ids['B.accountId']}/keys/${revoked.id}`, keys.admin, undefined, [204]);
    keys.revoked = revoked.key;

    const types = EVENT_TYPES.filter((type) => type !== 'abuse');
    ids['A.verified'] = await this.loop('A', '/a/verified.php', types, true, 'json');
    ids['A.unverified'] = await this.loop('A', '/a/unverified.php', ['open'], false);
    ids['A.scratch'] = await this.loop('A', '/a/scratch.php', ['click'], true);
    ids['B.verified'] = await this.loop('B', '/b/verified.php', types, true, 'json');
    ids['B.unverified'] = await this.loop('B', '/b/unverified.php', ['open'], false);

    // Tracking (docs/tracking.md): A's signed URLs, and its click token with each part changed.
    const tracked = await client.json('POST', '/v1/tracking/urls', keys.A, {
      message: TRACKED_MESSAGE,
      links: [TRACKED_LINK],
    });
    const tokenOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);
    ids['A.openToken'] = tokenOf(tracked.open);
    ids['A.clickToken'] = tokenOf(tracked.links[0].url);
    Object.assign(ids, tamperedTokens(ids['A.clickToken'], ids['B.accountId']!));

    const cursor = async (path: string, key: string) => {
      const page = await client.json('GET', path, key);
      if (!page.nextCursor) throw new Error(`GET ${path} gave no cursor`);
      return page.nextCursor as string;
    };
    this.cursors['A.loops'] = await cursor('/v1/loops?limit=1', keys.A!);
    this.cursors['B.loops'] = await cursor('/v1/loops?limit=1', keys.B!);
    this.cursors.accounts = await cursor('/v1/accounts?limit=1', keys.admin!);
    this.forgeCursors();
  }

  private async loop(side: Side, path: string, events: string[], verify: boolean, format = 'form'): Promise<string> {
    const { receiver, client } = this;
    const key = this.keys[side]!;
    const url = `${receiver.origin}${path}`;
    const loop = await client.json('POST', '/v1/loops', key, { url, events, format }, [201]);
    if (verify) {
      const { file, content } = loop.verification;
      receiver.serve(`${path.slice(0, path.lastIndexOf('/') + 1)}${file}`, { body: content });
      const verified = await client.json('POST', `/v1/loops/${loop.id}/verify`, key);
      if (verified.status !== 'verified') throw new Error(`loop ${path} did not verify: ${JSON.stringify(verified)}`);
    }
    return loop.id;
  }

  private forgeCursors() {
    const { ids } = this;
    const A = `ACCOUNT#${ids['A.accountId']}`;
    const failures = (side: Side) => `FAILURES#${ids[`${side}.accountId`]}#${ids[`${side}.verified`]}`;
    const afterAll = {
      loops: (sk: string) => ({ pk: A, sk: `LOOP#${sk}` }),
      accounts: (sk: string) => ({
        pk: 'ACCOUNT#acc_ZZZZZZZZZZZZZZZZZZZZZZZZZZ',
        sk: 'ACCOUNT',
        gsi1pk: 'ACCOUNTS',
        gsi1sk: `acc_${sk}`,
      }),
      failures: (sk: string) => ({
        pk: failures('A'),
        sk: `EVENT#${sk}`,
        gsi1pk: failures('A'),
        gsi1sk: `2000-01-01T00:00:00.000Z#${sk}`,
      }),
    };
    for (const [list, make] of Object.entries(afterAll)) {
      this.cursors[`forged.ownAfterAll.${list}`] = encode(make('ZZZZ'));
      this.cursors[`forged.surrogate.${list}`] = encode(make('Z\ud800Z'));
      this.cursors[`forged.nul.${list}`] = encode(make('Z\u0000Z'));
    }
    Object.assign(this.cursors, {
      'forged.otherAccount': encode({ pk: `ACCOUNT#${ids['B.accountId']}`, sk: `LOOP#${ids['B.verified']}` }),
      'forged.extraKey': encode({ pk: A, sk: 'LOOP#x', gsi1pk: 'VERIFY' }),
      'forged.numbers': encode({ pk: 1, sk: 2 }),
      'forged.array': encode([A, 'LOOP#x']),
      'forged.null': encode(null),
      'forged.long': encode({ pk: A, sk: `LOOP#${'x'.repeat(300)}` }),
      'forged.proto': encode(`{"__proto__":{"pk":"${A}"},"pk":"${A}","sk":"LOOP#x"}`),
      'forged.failuresOfB': encode({
        pk: failures('B'),
        sk: 'EVENT#x',
        gsi1pk: failures('B'),
        gsi1sk: '2026-01-01T00:00:00.000Z#x',
      }),
      'forged.notJson': encode('not json'),
      'forged.accountsAsLoops': encode({ pk: A, sk: 'ACCOUNT', gsi1pk: 'ACCOUNTS', gsi1sk: ids['A.accountId'] }),
    });
  }

  /**
   * Replaces `{{name}}` and `{{name|filter}}` tokens; `marker` stands for `{{msg}}`. A final
   * `{{pad:N}}` becomes the spaces that make the whole text N bytes long.
   */
  resolve(text: string, marker: string): string {
    const padded = /\{\{pad:(\d+)\}\}$/.exec(text);
    if (padded) {
      const resolved = this.resolve(text.slice(0, padded.index), marker);
      return resolved + ' '.repeat(Math.max(0, Number(padded[1]) - Buffer.byteLength(resolved)));
    }
    return text.replace(/\{\{([A-Za-z][\w.:-]*)((?:\|[a-z]+(?::\d+)?)*)\}\}/g, (_, name: string, filters: string) => {
      let value = this.token(name, marker);
      for (const filter of filters.split('|').filter(Boolean)) {
        const [op, arg] = filter.split(':');
        if (op === 'lower') value = value.toLowerCase();
        else if (op === 'upper') value = value.toUpperCase();
        else if (op === 'cut') value = value.slice(0, -Number(arg));
        else throw new Error(`unknown filter ${filter}`);
      }
      return value;
    });
  }

  private token(name: string, marker: string): string {
    const day = (offset: number) => new Date(Date.now() - offset * 86_400_000).toISOString().slice(0, 10);
    if (name === 'msg') return marker;
    if (name === 'receiver') return this.receiver.origin;
    if (name === 'today') return day(0);
    if (name === 'yesterday') return day(1);
    if (name === 'A.created') return this.created.at(-1) ?? NO_SUCH.loop;
    if (name === 'A.createdKey') return this.createdKeys.at(-1) ?? NO_SUCH.key;
    if (name.startsWith('url:')) {
      const prefix = `${this.receiver.origin}/fz/`;
      return prefix + 'u'.repeat(Number(name.slice(4)) - prefix.length);
    }
    if (name.startsWith('key:')) return this.need(this.keys, name.slice(4));
    if (name.startsWith('cursor:')) return this.need(this.cursors, name.slice(7));
    return this.need(this.ids, name);
  }

  private need(values: Record<string, string>, name: string): string {
    const value = values[name];
    if (value === undefined) throw new Error(`the fixture has no ${name}`);
    return value;
  }

  /** Every id of one side, to tell whether an answer to the other shows any of them. */
  idsOf(side: Side): string[] {
    return Object.entries(this.ids)
      .filter(([name]) => name.startsWith(`${side}.`))
      .map(([, id]) => id);
  }
}
