// /metrics behind the apiserver's own authentication and authorization, as
// kube-rbac-proxy puts it: real ServiceAccount tokens, real RBAC, a real apiserver.
import { sharedKubeConfig } from '@kok/testing/vitest';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from './clock.ts';
import { KubeClient } from './kube-client.ts';
import { Manager } from './manager.ts';
import { MetricsAccessReview } from './metrics-access.ts';
import { eventually, freshNamespace } from './test-support.ts';

let client: KubeClient;
let namespace: string;
let manager: Manager;
let base: string;
const readerRole = `kok-test-metrics-reader-${process.pid}-${Date.now().toString(36)}`;

async function serviceAccountToken(name: string): Promise<string> {
  await client.request('POST', `/api/v1/namespaces/${namespace}/serviceaccounts`, {
    body: { metadata: { name } },
  });
  const request = await client.request<{ status: { token: string } }>(
    'POST',
    `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
    {
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 3600 },
      },
    },
  );
  return request.status.token;
}

async function grantMetricsReader(serviceAccount: string): Promise<void> {
  await client.request('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    body: {
      metadata: { name: `${readerRole}-${serviceAccount}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: readerRole },
      subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace }],
    },
  });
}

const scrape = (path: string, token?: string) =>
  fetch(`${base}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

beforeAll(async () => {
  client = new KubeClient(sharedKubeConfig(), { qps: 100, burst: 200 });
  namespace = await freshNamespace(client, 'metrics-access');
  await client.request('POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', {
    body: {
      metadata: { name: readerRole },
      rules: [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }],
    },
  });
  manager = new Manager({
    kubeConfig: sharedKubeConfig(),
    http: { host: '127.0.0.1', port: 0, authorizeMetrics: true },
    logger: pino({ level: 'silent' }),
  });
  await manager.start();
  base = manager.address() ?? '';
});

afterAll(async () => {
  await manager?.stop();
  for (const binding of ['reader', 'late'])
    await client
      .request('DELETE', `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${readerRole}-${binding}`)
      .catch(() => undefined);
  await client
    .request('DELETE', `/apis/rbac.authorization.k8s.io/v1/clusterroles/${readerRole}`)
    .catch(() => undefined);
  await client.request('DELETE', `/api/v1/namespaces/${namespace}`).catch(() => undefined);
  client.close();
});

describe('/metrics with authorizeMetrics', () => {
  it('answers 401 without a token or with one the apiserver does not know', async () => {
    const none = await scrape('/metrics');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect((await scrape('/metrics', 'not-a-token')).status).toBe(401);
  });

  it('answers 403 to a ServiceAccount without get on /metrics, 200 with the metrics to one that has it', async () => {
    const stranger = await serviceAccountToken('stranger');
    const reader = await serviceAccountToken('reader');
    await grantMetricsReader('reader');
    const refused = await scrape('/metrics', stranger);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain(`system:serviceaccount:${namespace}:stranger`);
    // RBAC reaches the authorizer through its informer: a fresh binding may take a moment.
    const metrics = await eventually('the reader allowed', async () => {
      const response = await scrape('/metrics', reader);
      return response.status === 200 ? await response.text() : undefined;
    });
    expect(metrics).toContain('process_cpu_user_seconds_total');
  });

  it('keeps the health endpoints open', async () => {
    expect((await scrape('/healthz')).status).toBe(200);
    expect((await scrape('/readyz')).status).toBe(200);
  });

  it('remembers a refusal for deniedTtlMs only: a new grant counts after that', async () => {
    const clock = new FakeClock();
    const review = new MetricsAccessReview(client, { clock, deniedTtlMs: 10_000, allowedTtlMs: 30_000 });
    const token = await serviceAccountToken('late');
    const header = `Bearer ${token}`;
    expect(await review.review(header)).toMatchObject({ allowed: false, status: 403 });
    await grantMetricsReader('late');
    // Give the apiserver's authorizer time to see the binding, so only the cache can still refuse.
    await eventually(
      'the binding effective',
      async () => (await new MetricsAccessReview(client).review(header)).allowed,
    );
    clock.advance(9_000);
    expect(await review.review(header)).toMatchObject({ allowed: false, status: 403 });
    clock.advance(2_000);
    expect(await review.review(header)).toEqual({
      allowed: true,
      user: `system:serviceaccount:${namespace}:late`,
    });
  });
});
