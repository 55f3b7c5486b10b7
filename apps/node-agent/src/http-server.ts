/** /healthz and /metrics on a local port: node:http, as two routes need no framework. */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { MetricsAccessReview } from '@kok/reconcile';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

/** What the endpoints read: the agent process, whichever NodeAgent currently runs in it. */
export interface ServedAgent {
  readonly log: Logger;
  readonly metrics: { readonly registry: Registry };
  isHealthy(): boolean;
}

/**
 * Serves /healthz to anyone and /metrics to whom `metricsAccess` allows
 * (kube-rbac-proxy's model, as the operators do); without it, /metrics is open.
 */
export async function serveHttp(
  agent: ServedAgent,
  host: string,
  port: number,
  metricsAccess?: MetricsAccessReview,
): Promise<Server> {
  const serveMetrics = async (authorization: string | undefined) => {
    const decision = await metricsAccess?.review(authorization);
    if (decision && !decision.allowed) {
      agent.log.debug({ status: decision.status, reason: decision.reason }, 'metrics request refused');
      return {
        status: decision.status,
        headers: {
          'content-type': 'text/plain',
          ...(decision.status === 401 ? { 'www-authenticate': 'Bearer' } : {}),
        },
        body: decision.reason,
      };
    }
    return {
      status: 200,
      headers: { 'content-type': agent.metrics.registry.contentType },
      body: await agent.metrics.registry.metrics(),
    };
  };
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://agent').pathname;
    if (request.method !== 'GET') {
      response.writeHead(405, { allow: 'GET' }).end();
    } else if (path === '/healthz') {
      const healthy = agent.isHealthy();
      response.writeHead(healthy ? 200 : 503, { 'content-type': 'text/plain' });
      response.end(healthy ? 'ok' : 'caches not synced');
    } else if (path === '/metrics') {
      serveMetrics(request.headers.authorization).then(
        ({ status, headers, body }) => response.writeHead(status, headers).end(body),
        (error: unknown) => response.writeHead(500).end(String(error)),
      );
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return server;
}
