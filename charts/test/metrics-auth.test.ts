// /metrics of each operator, run as its chart's ServiceAccount with the
// chart's defaults: a scraper needs a token the apiserver authenticates and
// allows to get /metrics, which the chart's metrics-reader role grants to the
// subjects in metrics.readers. Health stays open for the kubelet's probes.
import { CoreV1Api } from '@kubernetes/client-node';
import { eventually } from '@kok/testing';
import { sharedKubeConfig, uniqueName } from '@kok/testing/vitest';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chartsDir, helm, kubectl } from './helm.ts';
import { freePort, OperatorProcess, serviceAccountKubeconfig } from './operator-process.ts';

let operator: OperatorProcess | undefined;
afterEach(async () => {
  await operator?.stop();
  operator = undefined;
});

async function token(namespace: string, serviceAccount: string): Promise<string> {
  const created = await kubectl('create', 'serviceaccount', serviceAccount, '-n', namespace);
  if (created.code !== 0) throw new Error(created.stderr);
  const issued = await kubectl('create', 'token', serviceAccount, '-n', namespace, '--duration', '1h');
  if (issued.code !== 0) throw new Error(issued.stderr);
  return issued.stdout.trim();
}

describe.each([
  { chart: 'kube-on-kube-operator', args: (namespace: string) => [`--namespace=${namespace}`] },
  {
    chart: 'node-operator',
    args: (namespace: string) => [
      `--namespace=${namespace}`,
      `--label-selector=kok-metrics-auth=${namespace}`,
    ],
  },
])('$chart /metrics', ({ chart, args }) => {
  it('answers 401 without a token, 403 to a ServiceAccount without the reader role, 200 to one in metrics.readers', async () => {
    const namespace = uniqueName('metrics');
    const release = uniqueName(chart.split('-')[0] as string);
    await sharedKubeConfig()
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: namespace } } });
    const stranger = await token(namespace, 'stranger');
    const prometheus = await token(namespace, 'prometheus');
    const installed = await helm(
      'install',
      release,
      join(chartsDir, chart),
      '-n',
      namespace,
      // Only the RBAC and the process matter here: /metrics answers before (and whether or not) caches sync.
      '--skip-crds',
      '--set',
      'replicaCount=1',
      '--set-json',
      `metrics.readers=[{"kind":"ServiceAccount","name":"prometheus","namespace":"${namespace}"}]`,
      ...(chart === 'node-operator' ? ['--set', 'agent.enabled=false'] : []),
    );
    if (installed.code !== 0) throw new Error(installed.stderr);
    const port = await freePort();
    operator = new OperatorProcess(chart, [
      `--kubeconfig=${await serviceAccountKubeconfig(namespace, release)}`,
      ...args(namespace),
      `--metrics-bind-address=127.0.0.1:${port}`,
    ]);
    const url = `http://127.0.0.1:${port}`;
    const spawned = operator;
    await eventually(
      'the operator serving',
      async () => {
        if (spawned.child.exitCode !== null) throw new Error(`exited: ${spawned.output}`);
        return (await fetch(`${url}/healthz`)).ok;
      },
      60_000,
    );
    const scrape = (bearer?: string) =>
      fetch(`${url}/metrics`, bearer ? { headers: { authorization: `Bearer ${bearer}` } } : {});
    expect((await scrape()).status).toBe(401);
    expect((await scrape(stranger)).status).toBe(403);
    const allowed = await scrape(prometheus);
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toContain('process_cpu_user_seconds_total');
    expect(operator.forbidden()).toEqual([]);
  });
});
