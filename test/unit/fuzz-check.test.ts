import { describe, expect, it } from 'vitest';
import { checkAnswer, shapeProblem } from '../fuzz/check.ts';
import type { Answer } from '../fuzz/http.ts';
import type { FuzzRequest } from '../fuzz/model.ts';
import { differences } from '../fuzz/state.ts';

/** The fuzz's own judge: it must tell a refusal in the error shape from anything else. */

const json = { 'content-type': 'application/json; charset=utf-8' };
const answer = (status: number, body: unknown, headers: Record<string, string> = json): Answer => ({
  status,
  headers,
  text: typeof body === 'string' ? body : JSON.stringify(body),
});
const refused: FuzzRequest = {
  route: 'GET /v1/loops',
  what: 'test',
  method: 'GET',
  target: '/v1/loops',
  auth: 'none',
  expect: 'refused',
  statuses: [401],
};

describe('the error shape of docs/api.md §2', () => {
  it('takes a refusal with a code, a message and details', () => {
    const body = { error: { code: 'invalid_request', message: 'No.', details: [{ path: 'a', message: 'b' }] } };
    expect(shapeProblem('POST', answer(400, body))).toBeUndefined();
    expect(
      shapeProblem(
        'GET',
        answer(405, { error: { code: 'method_not_allowed', message: 'No.' } }, { ...json, allow: 'GET' }),
      ),
    ).toBeUndefined();
  });

  it.each([
    ['API Gateway’s own body', answer(500, { message: 'Internal Server Error' }), /members message/],
    ['a code that is not snake_case', answer(400, { error: { code: 'BadRequest', message: 'No.' } }), /code/],
    ['an empty message', answer(400, { error: { code: 'bad', message: ' ' } }), /message/],
    ['a member besides error', answer(400, { error: { code: 'bad', message: 'No.' }, stack: 'x' }), /members/],
    [
      'details that are not path and message',
      answer(400, { error: { code: 'bad', message: 'No.', details: [{ path: 1 }] } }),
      /detail/,
    ],
    ['text', answer(400, 'Bad Request', { 'content-type': 'text/plain' }), /content type/],
    [
      'a stack trace',
      answer(400, { error: { code: 'bad', message: 'Error: x\n    at f (/var/task/index.mjs:1:2)' } }),
      /internals/,
    ],
    ['a 405 without Allow', answer(405, { error: { code: 'method_not_allowed', message: 'No.' } }), /Allow/],
    ['a 429 without Retry-After', answer(429, { error: { code: 'throttled', message: 'Slow down.' } }), /Retry-After/],
  ])('finds %s', (_what, given, problem) => {
    expect(shapeProblem('GET', given)).toMatch(problem);
  });
});

describe('one answer to one request', () => {
  it('flags a 5xx, a refused request that was accepted, an unfitting status and another account’s ids', () => {
    const kinds = (request: FuzzRequest, given: Answer, foreign: string[] = []) =>
      checkAnswer(request, given, foreign).map((finding) => finding.kind);
    expect(kinds(refused, answer(401, { error: { code: 'unauthorized', message: 'Key?' } }))).toEqual([]);
    expect(kinds(refused, answer(502, { message: 'Bad Gateway' }))).toEqual(['5xx']);
    expect(kinds(refused, answer(200, { loops: [] }))).toEqual(['accepted', 'status']);
    expect(kinds(refused, answer(403, { error: { code: 'forbidden', message: 'No.' } }))).toEqual(['status']);
    expect(
      kinds({ ...refused, expect: 'inert', statuses: undefined }, answer(200, { id: 'loop_B' }), ['loop_B']),
    ).toEqual(['leak']);
    expect(
      kinds(refused, { status: 0, headers: {}, text: '', transportError: 'SocketError: other side closed' }),
    ).toEqual(['transport']);
  });
});

describe('the state comparison', () => {
  it('names what changed and nothing else', () => {
    const before = { A: { loops: [{ id: 'l1', description: 'x' }] }, B: { loops: [] } };
    expect(differences(before, structuredClone(before))).toEqual([]);
    expect(differences(before, { ...before, A: { loops: [{ id: 'l1', description: 'y' }] } })).toEqual([
      '.A.loops[0].description: "x" → "y"',
    ]);
  });
});
