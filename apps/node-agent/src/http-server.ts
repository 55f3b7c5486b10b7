/** /healthz and /metrics on a local port: node:http, as two routes need no framework. */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { NodeAgent } from './agent.ts';

export async function serveHttp(agent: NodeAgent, host: string, port: number): Promise<Server> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://agent').pathname;
    if (request.method !== 'GET') {
      response.writeHead(405, { allow: 'GET' }).end();
    } else if (path === '/healthz') {
      const healthy = agent.isHealthy();
      response.writeHead(healthy ? 200 : 503, { 'content-type': 'text/plain' });
      response.end(healthy ? 'ok' : 'caches not synced');
    } else if (path === '/metrics') {
      agent.metrics.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': agent.metrics.registry.contentType }).end(text),
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
