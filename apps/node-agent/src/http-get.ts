/**
 * One GET over node:http(s), for artifact downloads and HTTP health checks.
 * Not fetch: fetch loads undici into the agent (about 2 MiB resident on every
 * host, and more per call), and the agent needs none of what it adds. No
 * redirect is followed: an artifact or a health endpoint answers itself.
 */
import { get as getHttp } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { get as getHttps } from 'node:https';

export interface HttpResponse {
  readonly status: number;
  readonly ok: boolean;
  /** The body, still to be read (or `resume()`d to drop it). */
  readonly body: IncomingMessage;
}

/** Resolves once the headers are in; `signal` aborts the request and the body alike. */
export function httpGet(url: string, signal: AbortSignal): Promise<HttpResponse> {
  const get = url.startsWith('https:') ? getHttps : url.startsWith('http:') ? getHttp : undefined;
  if (!get) return Promise.reject(new Error(`${url}: only http and https URLs can be fetched`));
  return new Promise((resolve, reject) => {
    get(url, { signal }, (body) => {
      const status = body.statusCode ?? 0;
      resolve({ status, ok: status >= 200 && status < 300, body });
    }).on('error', reject);
  });
}
