import { Pool } from 'undici';

/** The twin as the fuzz sees it: its API, and the emulator behind it for the snapshots. */
export interface TwinAccess {
  apiUrl: string;
  adminKey: string;
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  resources: Record<string, string>;
}

export interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** The request never got an HTTP answer (reset, timeout). */
  transportError?: string;
}

/**
 * Raw HTTP to the API: the path and query go out byte for byte (no URL normalisation), headers only
 * those given, the body as bytes. At most `connections` requests in flight.
 */
export class RawClient {
  private readonly pool: Pool;

  constructor(origin: string, connections = 8) {
    this.pool = new Pool(origin, { connections, pipelining: 1, headersTimeout: 60_000, bodyTimeout: 60_000 });
  }

  async send(request: {
    method: string;
    path: string;
    headers: Record<string, string>;
    body?: Buffer;
  }): Promise<Answer> {
    try {
      const response = await this.pool.request({
        method: request.method,
        path: request.path,
        headers: request.headers,
        ...(request.body !== undefined ? { body: request.body } : {}),
      });
      const text = await response.body.text();
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(response.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      return { status: response.statusCode, headers, text };
    } catch (error) {
      return {
        status: 0,
        headers: {},
        text: '',
        transportError: `${(error as Error).name}: ${(error as Error).message}`,
      };
    }
  }

  /**
   * A JSON request of the fixture and the snapshots; anything but `expected` throws. A 5xx or a lost
   * connection is tried again a few times (a busy twin), since the run needs these answers.
   */
  async json(method: string, path: string, key: string | undefined, body?: unknown, expected = [200]): Promise<any> {
    let answer = await this.once(method, path, key, body);
    for (let attempt = 1; attempt < 5 && (answer.status >= 500 || answer.status === 0); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
      answer = await this.once(method, path, key, body);
    }
    if (!expected.includes(answer.status)) {
      throw new Error(`${method} ${path} → ${answer.status} ${answer.transportError ?? answer.text.slice(0, 300)}`);
    }
    return answer.text ? JSON.parse(answer.text) : undefined;
  }

  private once(method: string, path: string, key: string | undefined, body?: unknown): Promise<Answer> {
    return this.send({
      method,
      path,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: Buffer.from(JSON.stringify(body)) } : {}),
    });
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
