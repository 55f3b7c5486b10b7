/**
 * Just enough of a Kubernetes client for the SIMULATORS: the current context of
 * a kubeconfig (server, CA, client certificate or token) and JSON requests over
 * node:https. A simulated host runs one per stand-in process, and on a small test
 * machine twenty hosts' worth of @kubernetes/client-node imports (≈ 0.9 s of CPU
 * and 70 MiB each, at every restart of a stand-in) were a large part of the load.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { parse } from 'yaml';

type Named<T> = { name: string } & T;
interface KubeconfigFile {
  'current-context'?: string;
  contexts?: Named<{ context?: { cluster?: string; user?: string } }>[];
  clusters?: Named<{
    cluster?: {
      server?: string;
      'certificate-authority-data'?: string;
      'certificate-authority'?: string;
      'insecure-skip-tls-verify'?: boolean;
    };
  }>[];
  users?: Named<{
    user?: {
      'client-certificate-data'?: string;
      'client-certificate'?: string;
      'client-key-data'?: string;
      'client-key'?: string;
      token?: string;
      tokenFile?: string;
    };
  }>[];
}

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export interface LightKubeClient {
  /** Sends a request with a JSON body (if any) and returns the parsed JSON answer; non-2xx throws ApiError. */
  request<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T>;
}

/** A client for the current context of the kubeconfig file at `path`. */
export function lightKubeClient(path: string): LightKubeClient {
  const config = (parse(readFileSync(path, 'utf8')) ?? {}) as KubeconfigFile;
  const contextName = config['current-context'];
  const context =
    config.contexts?.find((c) => c.name === contextName)?.context ?? config.contexts?.[0]?.context;
  const cluster = config.clusters?.find((c) => c.name === context?.cluster)?.cluster;
  const user = config.users?.find((u) => u.name === context?.user)?.user ?? {};
  if (!cluster?.server) throw new Error(`${path}: no server in the current context`);
  const server = new URL(cluster.server);
  const pem = (data: string | undefined, file: string | undefined): Buffer | undefined =>
    data ? Buffer.from(data, 'base64') : file ? readFileSync(file) : undefined;
  const ca = pem(cluster['certificate-authority-data'], cluster['certificate-authority']);
  const cert = pem(user['client-certificate-data'], user['client-certificate']);
  const key = pem(user['client-key-data'], user['client-key']);
  const token = user.token ?? (user.tokenFile ? readFileSync(user.tokenFile, 'utf8').trim() : undefined);
  const send = server.protocol === 'https:' ? httpsRequest : httpRequest;

  return {
    request: <T>(method: string, path: string, body?: unknown, contentType = 'application/json') =>
      new Promise<T>((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const req = send(
          new URL(path, server),
          {
            method,
            ...(ca ? { ca } : {}),
            ...(cert && key ? { cert, key } : {}),
            rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
            headers: {
              accept: 'application/json',
              ...(token ? { authorization: `Bearer ${token}` } : {}),
              ...(payload
                ? { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) }
                : {}),
            },
            timeout: 10_000,
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              const status = response.statusCode ?? 0;
              if (status < 200 || status >= 300) {
                const message = (() => {
                  try {
                    return (JSON.parse(text) as { message?: string }).message ?? text;
                  } catch {
                    return text;
                  }
                })();
                reject(new ApiError(status, `${method} ${path}: ${status} ${message}`));
                return;
              }
              resolve((text ? JSON.parse(text) : undefined) as T);
            });
            response.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
        req.on('error', reject);
        req.end(payload);
      }),
  };
}
