import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpGet } from './http-get.ts';

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    if (request.url === '/ok') response.end('body');
    else if (request.url === '/moved') response.writeHead(302, { location: '/ok' }).end();
    else if (request.url === '/slow') setTimeout(() => response.end('late'), 5_000);
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('httpGet', () => {
  it('returns the status and a body to read', async () => {
    const response = await httpGet(`${base}/ok`, AbortSignal.timeout(5_000));
    expect([response.status, response.ok, await text(response.body)]).toEqual([200, true, 'body']);
  });

  it('reports a redirect or an error status as not ok, without following it', async () => {
    const moved = await httpGet(`${base}/moved`, AbortSignal.timeout(5_000));
    moved.body.resume();
    expect([moved.status, moved.ok]).toEqual([302, false]);
    const missing = await httpGet(`${base}/missing`, AbortSignal.timeout(5_000));
    missing.body.resume();
    expect([missing.status, missing.ok]).toEqual([404, false]);
  });

  it('gives up when the signal fires', async () => {
    await expect(httpGet(`${base}/slow`, AbortSignal.timeout(100))).rejects.toThrow(/abort/i);
  });

  it('refuses other schemes', async () => {
    await expect(httpGet('ftp://example.invalid/x', AbortSignal.timeout(100))).rejects.toThrow(
      'only http and https',
    );
  });
});
