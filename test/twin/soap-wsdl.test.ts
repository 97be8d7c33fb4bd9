/**
 * The WSDL as other clients read it: the `soap` npm package (a second, independent SOAP stack) calls
 * create, list and send; xmllint validates requests and answers against the WSDL's own schema; the
 * address is the deployment's, whatever Host a request names.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as soap from 'soap';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { call } from '../support/twin-api.ts';
import { createAccount } from '../support/twin-seed.ts';

const NS = 'urn:feedback-loops:soap:v1';
const wsdlUrl = () => `${inject('twin').apiUrl}/v1/soap?wsdl`;

describe('the soap npm package, from the same WSDL', () => {
  let apiKey: string;
  let client: soap.Client;
  beforeAll(async () => {
    ({ apiKey } = await createAccount('Node Soap'));
    client = await soap.createClientAsync(wsdlUrl());
    client.addSoapHeader(
      `<tns:Authentication xmlns:tns="${NS}"><tns:accessToken>${apiKey}</tns:accessToken></tns:Authentication>`,
    );
  });

  it('creates a loop, lists it as REST does, and sends events', async () => {
    const [created] = await client.Loop_createAsync({
      url: 'https://example.com/node',
      events: ['open', 'click'],
      enabled: true,
    });
    expect(created).toMatchObject({
      url: 'https://example.com/node',
      events: ['open', 'click'],
      enabled: true,
      status: 'unverified',
    });
    const [listed] = await client.Loop_listAsync({ limit: 10 });
    const rest = await call('GET', '/v1/loops?limit=10', { key: apiKey });
    expect(listed.loops.map((loop: { id: string }) => loop.id)).toEqual(
      rest.body.loops.map((loop: { id: string }) => loop.id),
    );
    expect(listed.loops[0].enabled).toBe(true);
    const [sent] = await client.Event_sendAsync({
      events: [
        { type: 'open', message: 'node-1', fields: { item: [{ key: 'plan', value: { string: 'gold' } }] } },
        { type: 'click', message: 'node-2' },
      ],
    });
    expect(sent.accepted).toBe(2);
    expect(sent.ids).toHaveLength(2);
  });

  it('gets a fault with the REST error in its detail', async () => {
    const failure = await client.Loop_getAsync({ loopId: 'loop_nope' }).catch((error: unknown) => error);
    expect((failure as { root: any }).root.Envelope.Body.Fault.detail.error.code).toBe('not_found');
  });
});

describe('the WSDL', () => {
  let schemaFile: string;
  let wsdl: string;
  let apiKey: string;
  beforeAll(async () => {
    ({ apiKey } = await createAccount('Xmllint'));
    wsdl = await (await fetch(wsdlUrl())).text();
    const schema = /<xsd:schema[\s\S]*<\/xsd:schema>/
      .exec(wsdl)![0]
      .replace('<xsd:schema ', `<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:tns="${NS}" `);
    const dir = await mkdtemp(join(tmpdir(), 'soap-xsd-'));
    schemaFile = join(dir, 'types.xsd');
    await writeFile(schemaFile, schema);
  });

  /** Validates `xml` against the WSDL's schema with xmllint: '' when valid, else its complaint. */
  async function xmllint(xml: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'soap-doc-'));
    await writeFile(join(dir, 'doc.xml'), xml);
    try {
      await promisify(execFile)('xmllint', ['--noout', '--schema', schemaFile, join(dir, 'doc.xml')]);
      return '';
    } catch (error) {
      return String((error as { stderr?: string }).stderr);
    }
  }

  /** The operation element of an envelope, as a document of its own. */
  const bodyOf = (envelope: string) =>
    /<soap:Body>([\s\S]*)<\/soap:Body>/.exec(envelope)![1]!.replace(/^<tns:(\w+)/, `<tns:$1 xmlns:tns="${NS}"`);

  async function post(operation: string, body: string) {
    const envelope = `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:tns="${NS}"><soap:Header><tns:Authentication><tns:accessToken>${apiKey}</tns:accessToken></tns:Authentication></soap:Header><soap:Body>${body}</soap:Body></soap:Envelope>`;
    const response = await fetch(`${inject('twin').apiUrl}/v1/soap`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: `"${NS}#${operation}"` },
      body: envelope,
    });
    return { status: response.status, text: await response.text() };
  }

  it('is a schema xmllint compiles, and sample requests and answers are valid against it', async () => {
    const requests: [string, string][] = [
      [
        'Loop_create',
        `<tns:Loop_create xmlns:tns="${NS}"><tns:url>https://example.com/x</tns:url><tns:events>open</tns:events><tns:events>click</tns:events><tns:format>json</tns:format><tns:enabled>false</tns:enabled></tns:Loop_create>`,
      ],
      ['Loop_list', `<tns:Loop_list xmlns:tns="${NS}"><tns:limit>5</tns:limit></tns:Loop_list>`],
      [
        'Event_send',
        `<tns:Event_send xmlns:tns="${NS}"><tns:type>open</tns:type><tns:message>m</tns:message><tns:fields><tns:item><tns:key>age</tns:key><tns:value><tns:double>42</tns:double></tns:value></tns:item></tns:fields></tns:Event_send>`,
      ],
      ['Logfile_list', `<tns:Logfile_list xmlns:tns="${NS}"/>`],
    ];
    for (const [operation, body] of requests) {
      expect(await xmllint(body), `request ${operation}`).toBe('');
      const answer = await post(operation, body);
      expect(answer.status, answer.text).toBe(200);
      expect(await xmllint(bodyOf(answer.text)), `answer ${operation}`).toBe('');
    }
    const fault = await post(
      'Loop_get',
      `<tns:Loop_get xmlns:tns="${NS}"><tns:loopId>loop_nope</tns:loopId></tns:Loop_get>`,
    );
    const detail = /<detail>([\s\S]*)<\/detail>/
      .exec(fault.text)![1]!
      .replace('<tns:error', `<tns:error xmlns:tns="${NS}"`);
    expect(await xmllint(detail)).toBe('');
    expect(await xmllint(`<tns:Loop_create xmlns:tns="${NS}"><tns:events>open</tns:events></tns:Loop_create>`)).toMatch(
      /fails to validate/,
    );
  });

  it('names the deployment’s URL as its address, whatever Host the request says', async () => {
    const { apiUrl } = inject('twin');
    expect(wsdl).toContain(`<soap:address location="${apiUrl}/v1/soap"/>`);
    const url = new URL(wsdlUrl());
    const text = await new Promise<string>((resolve, reject) => {
      const req = request(url, { headers: { host: 'evil.example' } }, (response) => {
        let data = '';
        response.on('data', (chunk: Buffer) => (data += chunk.toString()));
        response.on('end', () => resolve(data));
      });
      req.on('error', reject);
      req.end();
    });
    expect(text).toContain(`<soap:address location="${apiUrl}/v1/soap"/>`);
    expect(text).not.toContain('evil.example');
  });
});
