// The charts' RBAC is checked against what the code actually calls: each
// operator runs as its chart's ServiceAccount, does real work, and must never be
// refused by the apiserver.
import 'reflect-metadata';
import { CertificatesV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { kwokNodeAnnotation } from '@kok/testing';
import { sharedKubeConfig, uniqueName } from '@kok/testing/vitest';
import { Pkcs10CertificateRequestGenerator, SubjectAlternativeNameExtension } from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chartsDir, helm, kubectl } from './helm.ts';
import { freePort, OperatorProcess, serviceAccountKubeconfig } from './operator-process.ts';

let operator: OperatorProcess | undefined;
afterEach(async () => {
  await operator?.stop();
  operator = undefined;
});

async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}\n${operator?.output.slice(-3000) ?? ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function installChart(
  chart: string,
  values: string[] = [],
): Promise<{ namespace: string; release: string }> {
  const namespace = uniqueName('rbac');
  const release = uniqueName(chart.split('-')[0] as string);
  // Only the RBAC matters here: no operator pods, no agents.
  const result = await helm(
    'install',
    release,
    join(chartsDir, chart),
    '-n',
    namespace,
    '--create-namespace',
    '--set',
    'replicaCount=1',
    ...(chart === 'node-operator' ? ['--set', `userRoles.namePrefix=${release}`] : []),
    ...(chart === 'node-operator' ? ['--set', 'agent.enabled=false'] : []),
    ...values.flatMap((value) => ['--set', value]),
  );
  if (result.code !== 0) throw new Error(result.stderr);
  return { namespace, release };
}

/**
 * The kubelet of `node` (the admin impersonating it, allowed to create CSRs by
 * a binding of its own) posts a kubelet-serving CSR naming only the node.
 */
async function postServingCsrAs(node: string): Promise<string> {
  const name = uniqueName('serving');
  const user = `system:node:${node}`;
  const bound = await kubectl(
    'create',
    'clusterrolebinding',
    name,
    '--clusterrole=system:node-bootstrapper',
    `--user=${user}`,
  );
  if (bound.code !== 0) throw new Error(bound.stderr);
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const request = await Pkcs10CertificateRequestGenerator.create(
    {
      name: `CN=${user}, O=system:nodes`,
      keys: (await webcrypto.subtle.generateKey(algorithm, false, [
        'sign',
        'verify',
      ])) as webcrypto.CryptoKeyPair,
      signingAlgorithm: algorithm,
      extensions: [new SubjectAlternativeNameExtension([{ type: 'dns', value: node }])],
    },
    webcrypto,
  );
  const file = join(tmpdir(), `kok-${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { name },
      spec: {
        signerName: 'kubernetes.io/kubelet-serving',
        usages: ['digital signature', 'server auth'],
        request: Buffer.from(request.toString('pem')).toString('base64'),
      },
    }),
  );
  const created = await kubectl('create', '-f', file, `--as=${user}`, '--as-group=system:nodes');
  rmSync(file, { force: true });
  if (created.code !== 0) throw new Error(created.stderr);
  return name;
}

describe('chart RBAC covers what the operators call', () => {
  it('kube-on-kube-operator with a watch namespace holds rights there only, and with them brings a Cluster up, moves it with a ClusterRollout and tears it down as its ServiceAccount', async () => {
    const clusters = uniqueName('fleet');
    const core = sharedKubeConfig().makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: clusters } } });
    const { namespace, release } = await installChart('kube-on-kube-operator', [
      `watchNamespace=${clusters}`,
    ]);
    // The apiserver's own answer (a SubjectAccessReview through impersonation).
    const may = async (...args: string[]) =>
      (
        await kubectl('auth', 'can-i', ...args, `--as=system:serviceaccount:${namespace}:${release}`)
      ).stdout.trim();
    expect(await may('get', 'secrets', '-n', clusters)).toBe('yes');
    expect(await may('create', 'deployments.apps', '-n', clusters)).toBe('yes');
    expect(await may('create', 'networkpolicies.networking.k8s.io', '-n', clusters)).toBe('yes');
    for (const elsewhere of [namespace, 'default', 'kube-system']) {
      expect(await may('get', 'secrets', '-n', elsewhere), elsewhere).toBe('no');
      expect(await may('create', 'statefulsets.apps', '-n', elsewhere), elsewhere).toBe('no');
      expect(await may('list', 'clusters.clusters.kok.dev', '-n', elsewhere), elsewhere).toBe('no');
    }
    expect(await may('list', 'secrets', '--all-namespaces')).toBe('no');
    // What is cluster-scoped by nature: the reviews that guard /metrics.
    expect(await may('create', 'tokenreviews.authentication.k8s.io')).toBe('yes');
    expect(await may('create', 'subjectaccessreviews.authorization.k8s.io')).toBe('yes');
    const kubeconfig = await serviceAccountKubeconfig(namespace, release);
    operator = new OperatorProcess('kube-on-kube-operator', [
      `--kubeconfig=${kubeconfig}`,
      `--namespace=${clusters}`,
      '--leader-elect',
      `--leader-election-namespace=${namespace}`,
      `--metrics-bind-address=127.0.0.1:${await freePort()}`,
    ]);
    const custom = sharedKubeConfig().makeApiClient(CustomObjectsApi);
    const ref = { group: 'clusters.kok.dev', version: 'v1alpha1', namespace: clusters, plural: 'clusters' };
    await custom.createNamespacedCustomObject({
      ...ref,
      body: {
        apiVersion: 'clusters.kok.dev/v1alpha1',
        kind: 'Cluster',
        metadata: { name: 'rbac', labels: { fleet: 'rbac' } },
        spec: { version: 'v1.36.3' },
      },
    });
    // A ClusterRollout moves the Cluster on and writes its own status.
    await custom.createNamespacedCustomObject({
      ...ref,
      plural: 'clusterrollouts',
      body: {
        apiVersion: 'clusters.kok.dev/v1alpha1',
        kind: 'ClusterRollout',
        metadata: { name: 'rbac' },
        spec: { clusterSelector: { matchLabels: { fleet: 'rbac' } }, version: 'v1.36.4' },
      },
    });
    await eventually('PKI Secrets and a status', async () => {
      const cluster = (await custom.getNamespacedCustomObject({ ...ref, name: 'rbac' })) as {
        status?: { phase?: string };
      };
      const secrets = await core.listNamespacedSecret({ namespace: clusters });
      return cluster.status?.phase && secrets.items.length > 0;
    });
    await eventually('an etcd StatefulSet', async () => {
      const { AppsV1Api } = await import('@kubernetes/client-node');
      const sets = await sharedKubeConfig()
        .makeApiClient(AppsV1Api)
        .listNamespacedStatefulSet({ namespace: clusters });
      return sets.items.length > 0;
    });
    await eventually('the ClusterRollout to start the Cluster and report', async () => {
      const rollout = (await custom.getNamespacedCustomObject({
        ...ref,
        plural: 'clusterrollouts',
        name: 'rbac',
      })) as { status?: { upgradingClusters?: number } };
      const cluster = (await custom.getNamespacedCustomObject({ ...ref, name: 'rbac' })) as {
        spec: { version: string };
      };
      return cluster.spec.version === 'v1.36.4' && rollout.status?.upgradingClusters === 1;
    });
    await custom.deleteNamespacedCustomObject({ ...ref, name: 'rbac' });
    await eventually('the Cluster gone through its finalizer', async () => {
      try {
        await custom.getNamespacedCustomObject({ ...ref, name: 'rbac' });
        return false;
      } catch (error) {
        return (error as { code?: number }).code === 404;
      }
    });
    expect(operator.forbidden()).toEqual([]);
  });

  it('node-operator reconciles Machines, Nodes and a NodePool, approves a serving CSR and removes a deleted Machine as its ServiceAccount', async () => {
    const { namespace, release } = await installChart('node-operator');
    const kubeconfig = await serviceAccountKubeconfig(namespace, release);
    const pool = uniqueName('pool');
    const node = uniqueName('node');
    const kubeConfig = sharedKubeConfig();
    await kubeConfig.makeApiClient(CoreV1Api).createNode({
      body: {
        metadata: {
          name: node,
          annotations: { [kwokNodeAnnotation.key]: kwokNodeAnnotation.value },
          labels: { 'kok-rbac-test': pool },
        },
      },
    });
    const custom = kubeConfig.makeApiClient(CustomObjectsApi);
    const nodes = { group: 'nodes.kok.dev', version: 'v1alpha1' };
    await custom.createClusterCustomObject({
      ...nodes,
      plural: 'machines',
      body: {
        apiVersion: 'nodes.kok.dev/v1alpha1',
        kind: 'Machine',
        metadata: { name: node, labels: { 'kok-rbac-test': pool, 'nodes.kok.dev/pool': pool } },
        spec: { pool, labels: { 'kok.dev/rbac': 'checked' } },
      },
    });
    await custom.createClusterCustomObject({
      ...nodes,
      plural: 'nodepools',
      body: {
        apiVersion: 'nodes.kok.dev/v1alpha1',
        kind: 'NodePool',
        metadata: { name: pool, labels: { 'kok-rbac-test': pool } },
        spec: { selector: { matchLabels: { 'nodes.kok.dev/pool': pool } }, template: { components: [] } },
      },
    });
    operator = new OperatorProcess('node-operator', [
      `--kubeconfig=${kubeconfig}`,
      `--namespace=${namespace}`,
      '--leader-elect',
      `--label-selector=kok-rbac-test=${pool}`,
      `--metrics-bind-address=127.0.0.1:${await freePort()}`,
    ]);
    await eventually('the Machine linked to its Node', async () => {
      const machine = (await custom.getClusterCustomObject({ ...nodes, plural: 'machines', name: node })) as {
        status?: { nodeRef?: { name?: string } };
      };
      return machine.status?.nodeRef?.name === node;
    });
    await eventually('the NodePool status observed', async () => {
      const status = (
        (await custom.getClusterCustomObject({ ...nodes, plural: 'nodepools', name: pool })) as {
          status?: { observedGeneration?: number };
        }
      ).status;
      return (status?.observedGeneration ?? 0) >= 1;
    });
    await eventually('the owned label on the Node', async () => {
      const read = await kubeConfig.makeApiClient(CoreV1Api).readNode({ name: node });
      return read.metadata?.labels?.['kok.dev/rbac'] === 'checked';
    });
    // Approving a kubelet serving certificate takes the approval subresource and `approve` on the signer.
    const csr = await postServingCsrAs(node);
    await eventually('the serving CSR approved', async () => {
      const read = await kubeConfig
        .makeApiClient(CertificatesV1Api)
        .readCertificateSigningRequest({ name: csr });
      return read.status?.conditions?.some((c) => c.type === 'Approved' && c.reason === 'KokMachineMatched');
    });
    // Removing the Machine takes its finalizer off and deletes its Node (no agent ever reported on it).
    await custom.deleteClusterCustomObject({ ...nodes, plural: 'machines', name: node });
    await eventually('the Machine and its Node gone', async () => {
      const gone = (read: Promise<unknown>) =>
        read.then(
          () => false,
          (error: unknown) => (error as { code?: number }).code === 404,
        );
      return (
        (await gone(custom.getClusterCustomObject({ ...nodes, plural: 'machines', name: node }))) &&
        (await gone(kubeConfig.makeApiClient(CoreV1Api).readNode({ name: node })))
      );
    });
    expect(operator.forbidden()).toEqual([]);
  });
});
