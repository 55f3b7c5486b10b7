/**
 * Just enough of a Kubernetes client for the SIMULATORS: the current context of
 * a kubeconfig (KubeconfigFile: server, CA, client certificate or token) and
 * JSON requests over node:https. A simulated host runs one per stand-in process, and on a small test
 * machine twenty hosts' worth of @kubernetes/client-node imports (≈ 0.9 s of CPU
 * and 70 MiB each, at every restart of a stand-in) were a large part of the load.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { RequestOptions } from 'node:https';
import { KubeconfigFile } from '@kok/reconcile/kubeconfig-file';

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
  // The kubeconfig reader the node agent uses, alone: the rest of @kok/reconcile is more than a stand-in needs.
  const kubeconfig = KubeconfigFile.load(path);
  const server = new URL(kubeconfig.getCurrentCluster().server);
  const send = server.protocol === 'https:' ? httpsRequest : httpRequest;

  return {
    request: async <T>(method: string, path: string, body?: unknown, contentType = 'application/json') => {
      const tls: RequestOptions = {};
      await kubeconfig.applyToHTTPSOptions(tls);
      return new Promise<T>((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const req = send(
          new URL(path, server),
          {
            method,
            ...tls,
            headers: {
              ...tls.headers,
              accept: 'application/json',
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
      });
    },
  };
}
