/**
 * The plugin end to end against the shared real kube-apiserver: CRDs from
 * crds/, objects from crds/examples/, the plugin run as a child process (and
 * once through the real kubectl), output and exit codes checked.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_RESOURCES, crdNameOf, metaTime, revisionName, templateRevision } from '@kok/api';
import type { Cluster, Machine, NodePool, NodePoolTemplate } from '@kok/api';
import { ApiError, builtinTypes, KubeClient } from '@kok/reconcile';
import { KubeConfig } from '@kubernetes/client-node';
import { sharedBinDir, sharedKubeConfig, sharedKubeconfigPath, uniqueName } from '@kok/testing/vitest';
import type {} from '@kok/testing/global-setup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { MachineBootstrap } from '@kok/pki';
import { clusterType, controllerRevisionType, machineType, nodePoolType } from './resources.ts';
import type { ClusterObject, MachineObject, NodePoolObject } from './resources.ts';
import { eventually, kok, REPOSITORY_ROOT, run, startKok } from './test-support/plugin-process.ts';

const CRDS_DIR = join(REPOSITORY_ROOT, 'crds');

function example<T>(file: string): T {
  return parse(readFileSync(join(CRDS_DIR, 'examples', file), 'utf8')) as T;
}

let client: KubeClient;
let kubeconfig: string;
let kubectl: string;
const namespace = uniqueName('fleet');
const clusterName = uniqueName('prod');
const poolName = uniqueName('workers');
const poolLabel = { 'kok.dev/test-pool': poolName };
const OLD = 'b0b0b0b0b0';
/** Bootstrap token Secrets the tests made (no tokencleaner runs here): removed at the end. */
const bootstrapTokenSecrets: string[] = [];

/** kubectl-kok with the shared kubeconfig. */
const plugin = (...args: string[]) => kok([...args, '--kubeconfig', kubeconfig]);

function condition(type: string, status: 'True' | 'False', reason: string, message: string) {
  return { type, status, reason, message, lastTransitionTime: metaTime(new Date()) };
}

/** Creates, retrying while a just-established CRD is not served yet. */
async function create<T extends { metadata?: { name?: string } }>(make: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await make();
    } catch (error) {
      if ((error as { code?: number }).code !== 404 || attempt > 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

function machineFor(name: string, zone: string): MachineObject {
  const base = example<Machine>('machine.yaml');
  return {
    ...base,
    metadata: {
      name,
      labels: { ...base.metadata?.labels, ...poolLabel, 'topology.kubernetes.io/zone': zone },
    },
    spec: { ...base.spec, pool: poolName, revision: OLD },
  } as MachineObject;
}

beforeAll(async () => {
  kubeconfig = sharedKubeconfigPath();
  kubectl = join(sharedBinDir(), 'kubectl');
  client = new KubeClient(sharedKubeConfig());
  const applied = await run(kubectl, ['apply', '--server-side', '-f', CRDS_DIR], { KUBECONFIG: kubeconfig });
  expect(applied.stderr).toBe('');
  // Asked again on failure: `kubectl wait` gives up at once while a new CRD has no conditions yet.
  await eventually(
    'kubectl wait to see every CRD Established',
    async () =>
      (
        await run(
          kubectl,
          [
            'wait',
            '--for=condition=Established',
            '--timeout=60s',
            ...ALL_RESOURCES.map((r) => `crd/${crdNameOf(r)}`),
          ],
          { KUBECONFIG: kubeconfig },
        )
      ).code === 0,
    60_000,
  );
  await client.create(builtinTypes.namespace, { metadata: { name: namespace } });

  const cluster = example<Cluster>('cluster.yaml');
  await create(() =>
    client.create(clusterType, {
      ...cluster,
      metadata: { ...cluster.metadata, name: clusterName, namespace },
    } as ClusterObject),
  );

  const pool = example<NodePool>('nodepool.yaml');
  await create(() =>
    client.create(nodePoolType, {
      ...pool,
      metadata: { name: poolName },
      spec: { ...pool.spec, selector: { matchLabels: poolLabel } },
    } as NodePoolObject),
  );
  for (const [index, zone] of ['zone-a', 'zone-a', 'zone-b'].entries())
    await create(() => client.create(machineType, machineFor(`${poolName}-m${index + 1}`, zone)));
});

afterAll(async () => {
  if (!client) return;
  for (const name of bootstrapTokenSecrets)
    await client.delete(builtinTypes.secret, { namespace: 'kube-system', name }).catch(() => undefined);
  for (const index of [1, 2, 3]) await client.delete(machineType, { name: `${poolName}-m${index}` });
  await client.delete(nodePoolType, { name: poolName });
  await client.delete(builtinTypes.namespace, { name: namespace });
  client.close();
});

describe('kubectl kok cluster', () => {
  it('lists the Clusters of a namespace with their printer columns, as text and as JSON', async () => {
    const text = await plugin('cluster', 'list', '-n', namespace);
    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).toMatch(/^NAME +VERSION +PHASE +ENDPOINT +AVAILABLE +AGE\n/);
    expect(text.stdout).toMatch(new RegExp(`^${clusterName} +v1\\.36\\.3 +<none>`, 'm'));

    const json = await plugin('cluster', 'list', '-n', namespace, '-o', 'json');
    const list = JSON.parse(json.stdout) as { kind: string; items: ClusterObject[] };
    expect(list.kind).toBe('List');
    expect(list.items.map((c) => c.metadata?.name)).toEqual([clusterName]);
    expect(list.items[0]?.metadata).not.toHaveProperty('managedFields');

    const wide = await plugin('cluster', 'list', '-A', '-o', 'wide');
    expect(wide.stdout).toMatch(/^NAMESPACE +NAME +VERSION +CURRENT +PHASE/);
    expect(wide.stdout).toContain(namespace);
  });

  it('says so on stderr when a namespace has no Clusters, and still succeeds', async () => {
    const empty = await plugin('cluster', 'list', '-n', 'kube-public');
    expect(empty).toEqual({ code: 0, stdout: '', stderr: 'No resources found in kube-public namespace.\n' });
  });

  it('shows one Cluster, and prints its kubeconfig once the operator has stored it', async () => {
    const before = await plugin('cluster', 'kubeconfig', clusterName, '-n', namespace);
    expect(before.code).toBe(1);
    expect(before.stderr).toContain(
      `Cluster "${clusterName}" has no kubeconfig yet (status.kubeconfigSecretRef is empty)`,
    );

    const kubeconfigText = 'apiVersion: v1\nkind: Config\nclusters: []\n';
    await client.create(builtinTypes.secret, {
      metadata: { name: `${clusterName}-admin-kubeconfig`, namespace },
      data: { 'admin.conf': Buffer.from(kubeconfigText).toString('base64') },
    });
    await client.mergePatchStatus(
      clusterType,
      { namespace, name: clusterName },
      {
        status: {
          phase: 'Ready',
          endpoint: 'https://10.0.0.1:6443',
          version: { current: 'v1.36.3' },
          kubeconfigSecretRef: { name: `${clusterName}-admin-kubeconfig`, key: 'admin.conf' },
          components: { etcd: { replicas: 5, ready: 5, version: '3.6.16' } },
          conditions: [condition('Available', 'True', 'AllComponentsAvailable', 'serving')],
        },
      },
    );

    expect(await plugin('cluster', 'kubeconfig', clusterName, '-n', namespace)).toEqual({
      code: 0,
      stdout: kubeconfigText,
      stderr: '',
    });
    const shown = await plugin('cluster', 'get', clusterName, '-n', namespace);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('Version:         desired v1.36.3, running v1.36.3');
    expect(shown.stdout).toMatch(/etcd +5\/5 +3\.6\.16/);
    expect(shown.stdout).toMatch(/Available +True +AllComponentsAvailable/);
    const yaml = parse(
      (await plugin('cluster', 'get', clusterName, '-n', namespace, '-o', 'yaml')).stdout,
    ) as ClusterObject;
    expect(yaml.status?.endpoint).toBe('https://10.0.0.1:6443');
  });

  it('tells a missing Cluster from a missing namespace flag', async () => {
    const missing = await plugin('cluster', 'get', clusterName);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      `error: Cluster "${clusterName}" not found in namespace "default"; list them with: kubectl get clusters -n default\n`,
    );
  });
});

describe('kubectl kok cluster plan', () => {
  it('plans a version change with the CRD’s rules and checks the kubelets it reads through the admin kubeconfig', async () => {
    const name = uniqueName('plan');
    const node = uniqueName('plan-node');
    const cluster = example<Cluster>('cluster.yaml');
    await client.create(clusterType, {
      ...cluster,
      metadata: { ...cluster.metadata, name, namespace },
    } as ClusterObject);
    try {
      // No admin kubeconfig yet: the plan is made, and says plainly that the kubelets could not be read.
      const early = await plugin('cluster', 'plan', name, '-n', namespace, '--version', 'v1.36.4');
      expect(early.code).toBe(0);
      expect(early.stdout).toContain('Version:  v1.36.3 → v1.36.4\nAllowed:  yes\n');
      expect(early.stdout).toMatch(/^1 +kube-apiserver +v1\.36\.3 → v1\.36\.4 .* APIServerAvailable/m);
      expect(early.stdout).toContain(`Kubelets: could not be read: Cluster "${name}" has no kubeconfig yet`);
      const refused = await plugin('cluster', 'plan', name, '-n', namespace, '--version=v1.38.0');
      expect(refused.stdout).toContain('Allowed:  no, the apiserver refuses it: Invalid value: "v1.38.0"');

      // The admin kubeconfig the Cluster names reaches this apiserver, where a Node runs an old kubelet.
      await client.create(builtinTypes.node, { metadata: { name: node } });
      await client.mergePatchStatus(
        builtinTypes.node,
        { name: node },
        { status: { nodeInfo: { kubeletVersion: 'v1.32.5' } } },
      );
      await client.create(builtinTypes.secret, {
        metadata: { name: `${name}-admin-kubeconfig`, namespace },
        data: { 'admin.conf': Buffer.from(readFileSync(kubeconfig)).toString('base64') },
      });
      await client.mergePatchStatus(
        clusterType,
        { namespace, name },
        { status: { kubeconfigSecretRef: { name: `${name}-admin-kubeconfig`, key: 'admin.conf' } } },
      );
      const planned = await plugin(
        'cluster',
        'plan',
        name,
        '-n',
        namespace,
        '--version',
        'v1.36.4',
        '-o',
        'json',
      );
      expect(planned).toMatchObject({ code: 0, stderr: '' });
      const view = JSON.parse(planned.stdout) as {
        allowed: boolean;
        steps: { components: string[] }[];
        kubelets: {
          readable: boolean;
          checked?: { node: string; kubeletVersion: string; problem?: string }[];
        };
      };
      expect(view.allowed).toBe(true);
      expect(view.steps.map((step) => step.components)).toEqual([
        ['apiServer'],
        ['controllerManager', 'scheduler'],
      ]);
      expect(view.kubelets.readable).toBe(true);
      expect(view.kubelets.checked?.find((k) => k.node === node)).toEqual({
        node,
        kubeletVersion: 'v1.32.5',
        problem:
          'kubelet v1.32.5 is 4 minor versions older than the apiserver v1.36.4 (at most 3 allowed); roll out a newer kubelet',
      });
    } finally {
      await client.delete(builtinTypes.node, { name: node }).catch(() => undefined);
    }
  });
});

describe('kubectl kok nodepool', () => {
  it('shows progress per wave, the failed machines and why the pool is paused', async () => {
    const pool = await client.get(nodePoolType, { name: poolName });
    const target = templateRevision(pool.spec.template);
    const deadlineExceeded = `ProgressDeadlineExceeded, not healthy at revision ${target} 600s after it was told: Node NotReady`;
    // What the node-operator and the agents would have written: m1 done, m2 failed, m3 stuck past its
    // progress deadline (the agent reports no failure; the node-operator's RolloutFailed says it).
    const reports: [string, string, Machine['status']][] = [
      [`${poolName}-m1`, target, { revision: { current: target, desired: target } }],
      [
        `${poolName}-m2`,
        target,
        {
          revision: { current: OLD, desired: target },
          components: [
            { name: 'kubelet', version: 'v1.35.4', state: 'Failed', message: 'exec check exited 1' },
          ],
        },
      ],
      [
        `${poolName}-m3`,
        target,
        {
          revision: { current: OLD, desired: target },
          conditions: [condition('RolloutFailed', 'True', 'ProgressDeadlineExceeded', deadlineExceeded)],
        },
      ],
    ];
    for (const [name, revision, status] of reports) {
      await client.patch(machineType, { name }, 'application/merge-patch+json', { spec: { revision } });
      await client.mergePatchStatus(machineType, { name }, { status });
    }
    await client.mergePatchStatus(
      nodePoolType,
      { name: poolName },
      {
        status: {
          observedGeneration: pool.metadata?.generation,
          updateRevision: target,
          currentRevision: OLD,
          machines: 3,
          updatedMachines: 1,
          readyMachines: 2,
          unavailableMachines: 2,
          failedMachines: 2,
          currentWave: 1,
          conditions: [condition('Paused', 'True', 'TooManyFailures', `2 machines failed at ${target}`)],
        },
      },
    );

    const status = await plugin('nodepool', 'status', poolName);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`Revision:  ${target}, last good ${OLD}`);
    expect(status.stdout).toContain(
      'Machines:  3 total, 1 updated, 2 ready, 2 unavailable (maxUnavailable 5%), 2 failed (maxFailed 3)',
    );
    expect(status.stdout).toContain(`State:     Paused (TooManyFailures): 2 machines failed at ${target}`);
    expect(status.stdout).toContain(`roll back with: kubectl kok nodepool rollback ${poolName}`);
    // Ordered by zone then name: m1 is the canary, m2 and m3 fill "first-hundred" (count 100).
    expect(status.stdout).toMatch(/ {2}canary +1 +\[#{20}\] 100% +1 +0 +0 +0 +bake 600s/);
    expect(status.stdout).toMatch(/> first-hundred +2 +\[-{20}\] +0% +0 +0 +2 +0 +bake 1800s/);
    expect(status.stdout).toMatch(/ {2}half +0 +\(no machines\)/);
    expect(status.stdout).toContain(`${poolName}-m2: kubelet: exec check exited 1`);
    expect(status.stdout).toContain(`${poolName}-m3: ${deadlineExceeded}`);

    const json = JSON.parse((await plugin('nodepool', 'status', poolName, '-o', 'json')).stdout) as {
      waves: { name: string; machines: number; updated: number }[];
    };
    expect(json.waves.map((w) => [w.name, w.machines, w.updated])).toEqual([
      ['canary', 1, 1],
      ['first-hundred', 2, 0],
      ['half', 0, 0],
    ]);
  });

  it('pauses and resumes with merge patches of spec.paused, also through the real kubectl', async () => {
    const paused = await run(kubectl, ['kok', 'nodepool', 'pause', poolName, '--kubeconfig', kubeconfig]);
    expect(paused).toEqual({ code: 0, stdout: `nodepool.nodes.kok.dev/${poolName} paused\n`, stderr: '' });
    expect((await client.get(nodePoolType, { name: poolName })).spec.paused).toBe(true);

    const resumed = await plugin('nodepool', 'resume', poolName);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toBe(`nodepool.nodes.kok.dev/${poolName} resumed\n`);
    // The pool stopped for failures: resuming alone does not move it, and the plugin says so.
    expect(resumed.stderr).toContain(
      'resuming does not lift that: roll back with kubectl kok nodepool rollback',
    );
    expect((await client.get(nodePoolType, { name: poolName })).spec.paused).toBe(false);
  });

  it('rolls back by writing the last good template, kept in a ControllerRevision, into spec.template', async () => {
    const good: NodePoolTemplate = {
      components: [
        { name: 'kubelet', version: 'v1.35.4' },
        { name: 'containerd', version: '1.7.22' },
      ],
    };
    const goodRevision = templateRevision(good);
    await client.mergePatchStatus(
      nodePoolType,
      { name: poolName },
      { status: { currentRevision: goodRevision } },
    );

    const unknown = await plugin('nodepool', 'rollback', poolName);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(
      `no stored template for revision ${goodRevision} of NodePool "${poolName}"`,
    );

    // The node-operator keeps each rendered template as a ControllerRevision named <pool>-<revision>.
    await client.create(controllerRevisionType, {
      metadata: {
        name: revisionName(poolName, goodRevision),
        namespace,
        labels: { 'nodes.kok.dev/pool': poolName },
      },
      revision: 1,
      data: good,
    });
    const rolledBack = await plugin('nodepool', 'rollback', poolName);
    expect(rolledBack.stderr).toBe('');
    expect(rolledBack.code).toBe(0);
    expect(rolledBack.stdout).toMatch(
      new RegExp(
        `^nodepool.nodes.kok.dev/${poolName} rolled back: spec.template is revision ${goodRevision} again \\(was [0-9a-f]{10}\\)\n$`,
      ),
    );
    const after = await client.get(nodePoolType, { name: poolName });
    expect(after.spec.template).toEqual(good);
    expect(templateRevision(after.spec.template)).toBe(goodRevision);

    const again = await plugin('nodepool', 'rollback', poolName);
    expect(again.stdout).toContain(
      `already has the template of revision ${goodRevision}; nothing to roll back`,
    );
  });

  it('redraws the status with --watch as machines change, and stops cleanly on Ctrl-C', async () => {
    const watch = startKok(['nodepool', 'status', poolName, '--watch', '--kubeconfig', kubeconfig]);
    try {
      await eventually('the first frame', () => watch.output().includes('NodePool:'));
      const framesBefore = watch.output().split('NodePool:').length;
      await client.mergePatchStatus(nodePoolType, { name: poolName }, { status: { updatedMachines: 2 } });
      await eventually('a frame with the new count', () => watch.output().includes(', 2 updated,'));
      expect(watch.output().split('NodePool:').length).toBeGreaterThan(framesBefore);
      // Frames from the watch caches carry the rollout's ETA and where its pace comes from.
      expect(watch.output()).toMatch(/ETA: +\S/);
      expect(watch.output()).toMatch(/Basis: +(no history|median of)/);
    } finally {
      watch.child.kill('SIGINT');
    }
    expect(await watch.exited).toBe(0);
  });

  it('names a missing pool and how to list them', async () => {
    expect(await plugin('nodepool', 'status', 'no-such-pool')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: NodePool "no-such-pool" not found; list them with: kubectl get nodepools\n',
    });
  });
});

describe('kubectl kok machine describe', () => {
  it('puts what the machine should run next to what the agent reported', async () => {
    const described = await plugin('machine', 'describe', `${poolName}-m2`);
    expect(described.code).toBe(0);
    expect(described.stdout).toMatch(
      /Revision: +desired [0-9a-f]{10}, agent converging to [0-9a-f]{10}, current b0b0b0b0b0 \(NOT at desired\)/,
    );
    expect(described.stdout).toMatch(/kubelet +v1\.36\.3 +v1\.35\.4 +Failed +no +exec check exited 1/);
    expect(described.stdout).toMatch(/containerd +1\.7\.22 +- +- +missing/);
    expect(described.stdout).toMatch(
      /\/etc\/containerd\/config\.toml +ConfigMap kok-node-files\/containerd-config\[config\.toml\]/,
    );
  });
});

describe('kubectl kok machine bootstrap', () => {
  /** The bootstrap token Secrets in kube-system whose description names `machine`. */
  async function tokensFor(machine: string) {
    const { items } = await client.list(builtinTypes.secret, {
      namespace: 'kube-system',
      fieldSelector: 'type=bootstrap.kubernetes.io/token',
    });
    return items.filter((secret) =>
      Buffer.from(secret.data?.description ?? '', 'base64')
        .toString()
        .includes(`Machine ${machine} `),
    );
  }

  it('makes a bootstrap token Secret for the Machine and hands over a kubeconfig with that token, this apiserver and its CA', async () => {
    const machine = `${poolName}-m1`;
    const before = Date.now();
    const outcome = await plugin('machine', 'bootstrap', machine, '--ttl', '2h', '-o', 'json');
    expect(outcome.stderr).toBe('');
    expect(outcome.code).toBe(0);
    const bootstrap = JSON.parse(outcome.stdout) as MachineBootstrap;
    expect(bootstrap.machine).toBe(machine);
    expect(bootstrap.agentCommand).toBe(
      `node-agent --machine ${machine} --bootstrap-kubeconfig /etc/kubernetes/bootstrap-kubelet.conf --kubeconfig /etc/kok/agent.kubeconfig`,
    );
    const expiresAt = Date.parse(bootstrap.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 2 * 3600_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 2 * 3600_000);

    const [kubeletKubeconfig, ca] = bootstrap.files;
    expect([kubeletKubeconfig?.path, kubeletKubeconfig?.mode]).toEqual([
      '/etc/kubernetes/bootstrap-kubelet.conf',
      0o600,
    ]);
    expect([ca?.path, ca?.mode]).toEqual(['/etc/kubernetes/pki/ca.crt', 0o644]);
    const shared = sharedKubeConfig().getCurrentCluster();
    expect(ca?.content).toBe(Buffer.from(shared?.caData ?? '', 'base64').toString());
    const config = new KubeConfig();
    config.loadFromString(kubeletKubeconfig?.content ?? '');
    expect(config.getCurrentCluster()?.server).toBe(shared?.server);
    const token = config.getCurrentUser()?.token ?? '';
    expect(token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);

    // The token Secret the controller-manager and the apiserver read.
    const [id, secretPart] = token.split('.');
    const secret = await client.get(builtinTypes.secret, {
      namespace: 'kube-system',
      name: `bootstrap-token-${id}`,
    });
    bootstrapTokenSecrets.push(secret.metadata?.name ?? '');
    expect(secret.type).toBe('bootstrap.kubernetes.io/token');
    const data = Object.fromEntries(
      Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString()]),
    );
    expect(data).toEqual({
      'token-id': id,
      'token-secret': secretPart,
      expiration: bootstrap.expiresAt,
      'usage-bootstrap-authentication': 'true',
      description: `kubelet bootstrap of Machine ${machine} (kubectl kok machine bootstrap)`,
    });

    // Server and CA are right: a client with this kubeconfig gets an answer from the apiserver (this test
    // apiserver does not take bootstrap tokens, so the answer is a refusal), not a TLS failure.
    const bootstrapClient = new KubeClient(config);
    try {
      const error = await bootstrapClient.list(builtinTypes.namespace).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ApiError);
      expect([401, 403]).toContain((error as ApiError).code);
    } finally {
      bootstrapClient.close();
    }
  });

  it('prints the files, the agent command and how the agent gets its own certificate, with a 15-minute token by default', async () => {
    const machine = `${poolName}-m2`;
    const outcome = await plugin('machine', 'bootstrap', machine);
    expect(outcome.stderr).toBe('');
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toMatch(
      new RegExp(
        `^Bootstrap token for Machine "${machine}": Secret kube-system/bootstrap-token-[a-z0-9]{6}, valid for 15m \\(until `,
      ),
    );
    expect(outcome.stdout).toContain('--- /etc/kubernetes/bootstrap-kubelet.conf (mode 0600)');
    expect(outcome.stdout).toContain(
      '--- /etc/kubernetes/pki/ca.crt (mode 0644): the cluster CA\n-----BEGIN CERTIFICATE-----',
    );
    expect(outcome.stdout).toContain(
      `node-agent --machine ${machine} --bootstrap-kubeconfig /etc/kubernetes/bootstrap-kubelet.conf --kubeconfig /etc/kok/agent.kubeconfig\n`,
    );
    expect(outcome.stdout).toContain(
      `The agent asks with the same token for its own client certificate (user system:node-agent:${machine}`,
    );
    const tokens = await tokensFor(machine);
    bootstrapTokenSecrets.push(...tokens.map((t) => t.metadata?.name ?? ''));
    expect(tokens).toHaveLength(1);
  });

  it('refuses a Machine that does not exist, and makes no token for it', async () => {
    expect(await plugin('machine', 'bootstrap', 'no-such-machine')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: Machine "no-such-machine" not found; list them with: kubectl get machines\n',
    });
    expect(await tokensFor('no-such-machine')).toEqual([]);
  });
});

describe('kubectl kok why', () => {
  it('prints what the node-operator wrote into a Machine’s status.waitingFor, which the CRD keeps', async () => {
    const machine = `${poolName}-m3`;
    const waitingFor = {
      reason: 'WaitingForWave',
      message: `Waiting for its wave, waves[1]: NodePool "${poolName}" is still rolling out "canary" (waves[0]). It starts once the waves before it are complete.`,
      since: metaTime(new Date(Date.now() - 1_800_000)),
    };
    await client.mergePatchStatus(machineType, { name: machine }, { status: { waitingFor } });
    expect((await client.get(machineType, { name: machine })).status?.waitingFor).toEqual(waitingFor);

    const why = await plugin('why', 'machine', machine);
    expect(why).toMatchObject({ code: 0, stderr: '' });
    expect(why.stdout).toContain(`Machine "${machine}": `);
    expect(why.stdout).toContain(`\n  WaitingForWave (for 30m): ${waitingFor.message}\n`);
    const json = JSON.parse((await plugin('why', 'kma', machine, '-o', 'json')).stdout) as {
      reasons: unknown[];
    };
    expect(json.reasons).toEqual([waitingFor]);
  });

  it('says which gate a Cluster’s upgrade waits at, from the conditions the operator wrote', async () => {
    const name = uniqueName('upgrading');
    const cluster = example<Cluster>('cluster.yaml');
    await client.create(clusterType, { ...cluster, metadata: { name, namespace } } as ClusterObject);
    try {
      const created = await client.get(clusterType, { namespace, name });
      await client.mergePatchStatus(
        clusterType,
        { namespace, name },
        {
          status: {
            observedGeneration: created.metadata?.generation,
            phase: 'Upgrading',
            version: { current: 'v1.36.2', desired: 'v1.36.3' },
            gates: [{ name: 'APIServerAvailable', startedAt: metaTime(new Date(Date.now() - 1_800_000)) }],
            conditions: [
              condition('EtcdAvailable', 'True', 'QuorumReady', 'etcd has quorum'),
              condition('APIServerAvailable', 'False', 'RollingOut', '1 of 2 replicas at v1.36.3 Ready'),
              condition('Progressing', 'True', 'UpgradeInProgress', '1 of 2 replicas at v1.36.3 Ready'),
            ],
          },
        },
      );
      expect(await plugin('why', 'cluster', name, '-n', namespace)).toEqual({
        code: 0,
        stdout:
          `Cluster "${namespace}/${name}": at v1.36.2, desired v1.36.3 (phase Upgrading)\n` +
          '  RollingOut (for 30m): Waiting at gate APIServerAvailable: 1 of 2 replicas at v1.36.3 Ready\n',
        stderr: '',
      });
      expect(await plugin('why', 'cluster', name)).toMatchObject({
        code: 1,
        stderr: expect.stringContaining(`Cluster "${name}" not found in namespace "default"`),
      });
    } finally {
      await client.delete(clusterType, { namespace, name });
    }
  });
});

describe('kubectl kok errors', () => {
  it.each([
    [['nodepool', 'frobnicate', 'x'], 2, 'error: unknown command "nodepool frobnicate"'],
    [['nodepool', 'status'], 2, 'error: nodepool status needs a NAME'],
    [['cluster', 'list', '--context', 'nope'], 1, 'error: context "nope" not found in the kubeconfig'],
  ])('%j exits %i', async (args, code, message) => {
    const outcome = await plugin(...args);
    expect(outcome.code).toBe(code);
    expect(outcome.stderr).toContain(message);
  });

  it('says when the apiserver cannot be reached', async () => {
    const outcome = await kok(['cluster', 'list'], {
      KUBECONFIG: join(REPOSITORY_ROOT, 'apps/kubectl-kok/src/test-support/unreachable.kubeconfig'),
    });
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain('cannot reach the apiserver at https://127.0.0.1:1 (ECONNREFUSED)');
  });
});
