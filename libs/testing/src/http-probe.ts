import { request } from 'node:https';
import { request as plainRequest, type IncomingMessage } from 'node:http';

export interface ProbeTls {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  /** Accept any serving certificate: only for components whose self-signed cert we did not issue. */
  readonly insecure?: boolean;
}

/** True when `url` answers 200 (body "ok" where the component prints one). */
export function probe(url: string, tls: ProbeTls = {}): Promise<boolean> {
  return new Promise((resolveProbe) => {
    const options = { timeout: 2_000 };
    const onResponse = (response: IncomingMessage) => {
      response.resume();
      resolveProbe(response.statusCode === 200);
    };
    const req = url.startsWith('https:')
      ? request(
          url,
          { ...options, ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: !tls.insecure },
          onResponse,
        )
      : plainRequest(url, options, onResponse);
    req.on('error', () => resolveProbe(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}
