import { describe, expect, it } from 'vitest';
import { MACHINE_SIGNS, machineSign } from '#shared/events/machine-traffic.ts';

const get = (userAgent: string | undefined, headers: Record<string, string> = {}) => ({
  method: 'GET',
  headers: { ...(userAgent === undefined ? {} : { 'user-agent': userAgent }), ...headers },
});

describe('machine traffic', () => {
  it.each([
    [
      'Apple Mail Privacy Protection',
      get('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)'),
    ],
    [
      "Gmail's image proxy",
      get('Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)'),
    ],
    ["Yahoo Mail's image proxy", get('YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html')],
    [
      'Microsoft Defender for Office 365 Safe Links and Bing link preview',
      get('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) BingPreview/1.0b'),
    ],
    ['Proofpoint URL Defense', get('Mozilla/5.0 (compatible; Proofpoint URL Defense)')],
    ['Mimecast URL Protect', get('Mozilla/5.0 (compatible; Mimecast-URL-Protect)')],
    ['Barracuda Email Protection link protection', get('Barracuda Sentinel (EE)')],
    ['Other named security scanners and previewers', get('Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)')],
    ['Other named security scanners and previewers', get('facebookexternalhit/1.1')],
    [
      'Crawlers, bots and HTTP libraries',
      get('Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'),
    ],
    ['Crawlers, bots and HTTP libraries', get('curl/8.5.0')],
    ['Crawlers, bots and HTTP libraries', get('python-requests/2.32.3')],
    [
      'Crawlers, bots and HTTP libraries',
      get('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/131.0 Safari/537.36'),
    ],
    ['No user agent', get(undefined)],
    ['No user agent', get('  ')],
    [
      'Prefetch',
      get('Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0', { 'x-moz': 'prefetch' }),
    ],
    [
      'Prefetch',
      get('Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 Version/18.0 Safari/605.1.15', { purpose: 'prefetch' }),
    ],
    ['Prefetch', get('Mozilla/5.0 Chrome/131.0 Safari/537.36', { 'sec-purpose': 'prefetch;prerender' })],
    ['HEAD request', { method: 'HEAD', headers: { 'user-agent': 'Mozilla/5.0 Chrome/131.0 Safari/537.36' } }],
  ])('%s', (name, request) => {
    expect(machineSign(request)?.name).toBe(name);
  });

  it.each([
    [
      'Safari on a Mac',
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
    ],
    [
      'Mail on an iPhone',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
    ],
    [
      'Chrome on Windows',
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    ],
    ['Firefox on Linux', 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0'],
    ['Outlook on Windows', 'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)'],
    ['Thunderbird', 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0'],
    [
      'Edge on Android',
      'Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36 EdgA/131.0',
    ],
  ])('a person: %s', (_name, userAgent) => {
    expect(machineSign(get(userAgent, { referer: 'https://mail.example.com/' }))).toBeUndefined();
  });

  it('names a source for every sign', () => {
    for (const sign of MACHINE_SIGNS) expect(sign.source.length).toBeGreaterThan(20);
  });
});
