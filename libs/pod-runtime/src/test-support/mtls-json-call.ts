/** One JSON call over mutual TLS to a process at a pod address, as the real-boot tests make them. */
import { request } from 'node:https';

export interface MtlsJsonCall {
  host: string;
  port: number;
  /** The name the server's certificate is verified for. */
  servername: string;
  tls: { ca: string | Buffer; cert: string | Buffer; key: string | Buffer };
  method: 'GET' | 'POST';
  path: string;
  body?: object;
  timeoutMs: number;
}

/** Resolves with the answer's JSON; rejects with the status and the answer's start on a non-2xx status. */
export function mtlsJsonCall(call: MtlsJsonCall): Promise<Record<string, unknown>> {
  const { host, port, servername, tls, method, path, body, timeoutMs } = call;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const where = `${method} ${path} at ${host}`;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port,
        method,
        path,
        servername,
        ...tls,
        headers: payload === undefined ? {} : { 'content-type': 'application/json' },
        timeout: timeoutMs,
        agent: false,
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () =>
          (res.statusCode ?? 0) < 300
            ? resolve(JSON.parse(text) as Record<string, unknown>)
            : reject(new Error(`${where}: ${res.statusCode} ${text.slice(0, 300)}`)),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${where}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}
