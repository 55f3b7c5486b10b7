/**
 * A client of a biz-cluster's apiserver through one address (its Service's ClusterIP), run as a process of
 * its own so that it can run in a host's network namespace: `node service-client.ts <target.json>`.
 *
 * Each round asks for /version and creates a ConfigMap `<name>-<round>` in `default`, each request on a new
 * connection (so kube-proxy's current rules pick the endpoint). A round that fails is tried once more after
 * `retryAfterMs`, as a client of a Service would once the endpoint it hit is gone. One JSON line per round
 * on stdout; SIGTERM ends it after the round under way. Node built-ins only (service-client-process.ts
 * starts it and reads what it prints).
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { ServiceClientRound, ServiceClientTarget } from './service-client-process.ts';

const REQUEST_TIMEOUT_MS = 5_000;

function call(target: ServiceClientTarget, method: 'GET' | 'POST', path: string, body?: object) {
  const payload = body ? JSON.stringify(body) : undefined;
  return new Promise<Record<string, unknown>>((resolve, reject) => {
    const req = request(
      {
        host: target.host,
        port: target.port,
        servername: target.serverName,
        ca: Buffer.from(target.caData, 'base64'),
        cert: Buffer.from(target.certData, 'base64'),
        key: Buffer.from(target.keyData, 'base64'),
        method,
        path,
        agent: false,
        timeout: REQUEST_TIMEOUT_MS,
        headers: {
          accept: 'application/json',
          ...(payload ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(JSON.parse(text) as Record<string, unknown>);
          else
            reject(
              Object.assign(new Error(`${method} ${path}: ${status} ${text.slice(0, 200)}`), { status }),
            );
        });
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`${method} ${path}: no answer in ${REQUEST_TIMEOUT_MS} ms`)),
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** `retry`: the first attempt's write may have been made before its answer was lost, so 409 is its success. */
async function round(target: ServiceClientTarget, n: number, retry: boolean): Promise<string> {
  const version = await call(target, 'GET', '/version');
  await call(target, 'POST', '/api/v1/namespaces/default/configmaps', {
    metadata: { name: `${target.name}-${n}` },
    data: { round: String(n) },
  }).catch((error: unknown) => {
    if (!(retry && (error as { status?: number }).status === 409)) throw error;
    return {};
  });
  return String(version['gitVersion']);
}

async function main(targetFile: string): Promise<void> {
  const target = JSON.parse(readFileSync(targetFile, 'utf8')) as ServiceClientTarget;
  let stopped = false;
  process.on('SIGTERM', () => {
    stopped = true;
  });
  for (let n = 0; !stopped; n++) {
    const startedAt = performance.now();
    const result: Omit<ServiceClientRound, 'milliseconds'> = { round: n };
    try {
      result.version = await round(target, n, false);
    } catch (first) {
      result.retriedAfter = String(first);
      await sleep(target.retryAfterMs);
      try {
        result.version = await round(target, n, true);
      } catch (second) {
        result.error = String(second);
      }
    }
    const line: ServiceClientRound = { ...result, milliseconds: Math.round(performance.now() - startedAt) };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    await sleep(target.pauseMs);
  }
}

const targetFile = process.argv[2];
if (!targetFile) throw new Error('usage: service-client.ts <target.json>');
await main(targetFile);
