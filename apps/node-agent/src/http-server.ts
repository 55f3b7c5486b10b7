/** /healthz and /metrics on a local port. */
import type { FastifyInstance } from 'fastify';
import { fastify } from 'fastify';
import type { NodeAgent } from './agent.ts';

export async function serveHttp(agent: NodeAgent, host: string, port: number): Promise<FastifyInstance> {
  const server = fastify({ logger: false });
  server.get('/healthz', async (_, reply) => {
    if (!agent.isHealthy()) return reply.code(503).send('caches not synced');
    return 'ok';
  });
  server.get('/metrics', async (_, reply) => {
    reply.header('content-type', agent.metrics.registry.contentType);
    return agent.metrics.registry.metrics();
  });
  await server.listen({ host, port });
  return server;
}
