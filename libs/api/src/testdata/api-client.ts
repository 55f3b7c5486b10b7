/**
 * The smallest JSON client a test of CRDs needs: one request over HTTPS with
 * the admin client certificate of a test control plane. (libs/api has no
 * Kubernetes client dependency, and must not grow one for its tests.)
 */
import { request as httpsRequest } from 'node:https';

export interface Credentials {
  readonly server: string;
  /** Base64 PEM, as in a kubeconfig. */
  readonly caData: string;
  readonly certData: string;
  readonly keyData: string;
}

export interface ApiResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export type ApiRequest = (method: string, path: string, body?: unknown) => Promise<ApiResponse>;

export function apiClient(credentials: Credentials): ApiRequest {
  const pem = (data: string) => Buffer.from(data, 'base64');
  return (method, path, body) =>
    new Promise((resolve, reject) => {
      const url = new URL(path, credentials.server);
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const request = httpsRequest(
        url,
        {
          method,
          ca: pem(credentials.caData),
          cert: pem(credentials.certData),
          key: pem(credentials.keyData),
          headers: {
            accept: 'application/json',
            ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({
              status: response.statusCode ?? 0,
              body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
            });
          });
        },
      );
      request.on('error', reject);
      request.end(payload);
    });
}
