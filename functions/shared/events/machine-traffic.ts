/**
 * Which tracking hits are machine traffic (docs/tracking.md): `machine: true` on the event, which is still
 * recorded and delivered (nothing is dropped). One list, each sign with where it is documented; the
 * unit tests go through it case by case (test/unit/machine-traffic.test.ts). A sign is added here and
 * nowhere else.
 */

export interface TrackingRequest {
  method: string;
  /** Request headers, names in lower case (as API Gateway's payload 2.0 gives them). */
  headers: Readonly<Record<string, string | undefined>>;
}

export interface MachineSign {
  name: string;
  /** Where the sign is documented or observed. */
  source: string;
  matches: (request: TrackingRequest) => boolean;
}

const userAgent = (request: TrackingRequest) => request.headers['user-agent'] ?? '';
const agentContains =
  (...needles: string[]) =>
  (request: TrackingRequest) => {
    const agent = userAgent(request).toLowerCase();
    return needles.some((needle) => agent.includes(needle.toLowerCase()));
  };

export const MACHINE_SIGNS: readonly MachineSign[] = [
  {
    name: 'Apple Mail Privacy Protection',
    source:
      'https://support.apple.com/guide/mail/use-mail-privacy-protection-mlhl03be2866/mac — the proxy loads ' +
      'remote content with a bare WebKit user agent, without the Version/Safari/Mobile tokens of a real ' +
      'browser: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)" ' +
      '(SendGrid sg_machine_open, https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event#open; ' +
      'its egress ranges: https://mask-api.icloud.com/egress-ip-ranges.csv)',
    // Apple Mail itself, opening on the device without the proxy, adds nothing either, which is why
    // senders treat the bare string as MPP: the device never fetches remote images itself once MPP is on.
    matches: (request) =>
      /^Mozilla\/5\.0 \(Macintosh[^)]*\) AppleWebKit\/[\d.]+ \(KHTML, like Gecko\)$/.test(userAgent(request).trim()),
  },
  {
    name: "Gmail's image proxy",
    source:
      'https://support.google.com/mail/answer/145919 — images are fetched by googleusercontent.com with ' +
      '"… (via ggpht.com GoogleImageProxy)" in the user agent',
    matches: agentContains('GoogleImageProxy', 'ggpht.com'),
  },
  {
    name: "Yahoo Mail's image proxy",
    source: 'observed user agent "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"',
    matches: agentContains('YahooMailProxy'),
  },
  {
    name: 'Microsoft Defender for Office 365 Safe Links and Bing link preview',
    source:
      'https://learn.microsoft.com/defender-office-365/safe-links-about — links are detonated before ' +
      'delivery; the preview fetcher names itself "BingPreview", WebDAV probes "Microsoft-WebDAV-MiniRedir". ' +
      '(Outlook itself, "Microsoft Office/16.0 … Microsoft Outlook", is a person reading: not listed.)',
    matches: agentContains('BingPreview', 'Microsoft-WebDAV'),
  },
  {
    name: 'Proofpoint URL Defense',
    source:
      'https://help.proofpoint.com/Proofpoint_Essentials/Email_Security/Administrator_Topics/URL_Defense — ' +
      'sandboxes fetch rewritten links; observed user agents name Proofpoint',
    matches: agentContains('Proofpoint'),
  },
  {
    name: 'Mimecast URL Protect',
    source: 'https://community.mimecast.com/s/article/email-security-cloud-gateway-url-protection — pre-scans links',
    matches: agentContains('Mimecast'),
  },
  {
    name: 'Barracuda Email Protection link protection',
    source: 'https://campus.barracuda.com/product/emailgatewaydefense/doc/96023044/link-protection/',
    matches: agentContains('Barracuda'),
  },
  {
    name: 'Other named security scanners and previewers',
    source:
      'user agents of Cisco IronPort, Trend Micro, Sophos, FireEye, Symantec/Broadcom, Forcepoint, Fortinet; ' +
      'link previewers of Slack, Teams, Skype, Facebook, Twitter, LinkedIn, Discord, WhatsApp, Telegram',
    matches: agentContains(
      'IronPort',
      'Trend Micro',
      'Sophos',
      'FireEye',
      'Symantec',
      'Forcepoint',
      'Fortinet',
      'Slackbot',
      'SkypeUriPreview',
      'facebookexternalhit',
      'Twitterbot',
      'LinkedInBot',
      'Discordbot',
      'WhatsApp',
      'TelegramBot',
    ),
  },
  {
    name: 'Crawlers, bots and HTTP libraries',
    source:
      'the convention of bot user agents ("bot", "crawler", "spider"), as Mautic and Keila check them; ' +
      'programs that are not browsers (curl, wget, python-requests, Go, Java, libwww)',
    matches: (request) =>
      /bot\b|crawler|spider|^curl\/|^wget\/|python-requests|python-urllib|aiohttp|go-http-client|^java\/|libwww|okhttp|headless/i.test(
        userAgent(request),
      ),
  },
  {
    name: 'No user agent',
    source: 'every browser and mail client sends one (RFC 9110 §10.1.5); a request without one is a program',
    matches: (request) => userAgent(request).trim() === '',
  },
  {
    name: 'Prefetch',
    source:
      'Sec-Purpose: prefetch (https://fetch.spec.whatwg.org/#sec-purpose-header), Purpose: prefetch ' +
      '(Chrome, Safari), X-Moz: prefetch (Firefox), X-Purpose: preview (Safari top sites)',
    matches: ({ headers }) =>
      /prefetch|preview/i.test(
        [headers['sec-purpose'], headers.purpose, headers['x-moz'], headers['x-purpose']].filter(Boolean).join(' '),
      ),
  },
  {
    name: 'HEAD request',
    source: 'a browser following a link or loading an image sends GET; link checkers and scanners send HEAD',
    matches: ({ method }) => method.toUpperCase() === 'HEAD',
  },
];

/** The first sign the request shows of a machine, if any. */
export function machineSign(request: TrackingRequest): MachineSign | undefined {
  return MACHINE_SIGNS.find((sign) => sign.matches(request));
}

export const isMachineTraffic = (request: TrackingRequest): boolean => machineSign(request) !== undefined;
