import { AppsV1Api, ApiextensionsV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { sharedKubeConfig, uniqueName } from '@kok/testing/vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { chartsDir, helm, kubectl } from './helm.ts';

const charts = [
  {
    name: 'kube-on-kube-operator',
    crds: ['clusters.clusters.kok.dev', 'clusterrollouts.clusters.kok.dev'],
    daemonSet: false,
  },
  {
    name: 'node-operator',
    crds: [
      'machines.nodes.kok.dev',
      'nodepools.nodes.kok.dev',
      'components.nodes.kok.dev',
      'remediationpolicies.nodes.kok.dev',
    ],
    daemonSet: true,
  },
];

/** A Kubernetes memory quantity with a binary suffix (Mi, Gi) in MiB. */
function mebibytes(quantity: string): number {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!match) throw new Error(`unexpected memory quantity ${quantity}`);
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
}

async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe.each(charts)('chart $name', (chart) => {
  const dir = join(chartsDir, chart.name);
  // The node-operator's user roles have fixed names by default: one set per release here, as releases run side by side.
  const userRolesOf = (release: string) =>
    chart.name === 'node-operator' ? ['--set', `userRoles.namePrefix=${release}`] : [];

  it('passes helm lint --strict', async () => {
    const result = await helm('lint', dir, '--strict');
    expect(result.stderr + result.stdout).toContain('0 chart(s) failed');
    expect(result.code).toBe(0);
  });

  it('renders least-privilege, non-root workloads with the generated CRDs', async () => {
    const result = await helm(
      'template',
      'probe',
      dir,
      '-n',
      'kok-system',
      '--include-crds',
      '--set',
      'serviceMonitor.enabled=true',
      '--set',
      'prometheusRule.enabled=true',
    );
    expect(result.code).toBe(0);
    const objects = parseAllDocuments(result.stdout)
      .map((d) => d.toJS())
      .filter(Boolean);
    const crdNames = objects.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata.name);
    expect(crdNames.sort()).toEqual([...chart.crds].sort());
    const operator = objects.find((o) => o.kind === 'Deployment');
    expect(operator.spec.replicas).toBe(2);
    expect(operator.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    const container = operator.spec.template.spec.containers[0];
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
    });
    expect(container.args).toContain('--leader-elect');
    // V8 sizes its heap from the host, not the container: the chart caps it, below the memory limit
    // (old space plus three young-generation semi-spaces, leaving room for code and native memory).
    const nodeOptions = container.env?.find((e: { name: string }) => e.name === 'NODE_OPTIONS')?.value ?? '';
    const flagMiB = (flag: string) => Number(new RegExp(`--${flag}=(\\d+)`).exec(nodeOptions)?.[1]);
    const heapMiB = flagMiB('max-old-space-size') + 3 * flagMiB('max-semi-space-size');
    expect(heapMiB, nodeOptions).toBeGreaterThan(0);
    expect(heapMiB).toBeLessThanOrEqual(0.75 * mebibytes(container.resources.limits.memory));
    expect(objects.some((o) => o.kind === 'PodDisruptionBudget')).toBe(true);
    expect(objects.some((o) => o.kind === 'ServiceMonitor')).toBe(true);
    expect(objects.some((o) => o.kind === 'PrometheusRule')).toBe(true);
    // /metrics behind the apiserver's TokenReview and SubjectAccessReview; the ServiceMonitor brings a token.
    expect(container.args).toContain('--metrics-auth=kubernetes');
    // The operator's (the node-operator chart has its agents' as well).
    const monitor = objects.find((o) => o.kind === 'ServiceMonitor' && o.metadata.name === 'probe');
    expect(monitor.spec.endpoints[0].bearerTokenFile).toBe(
      '/var/run/secrets/kubernetes.io/serviceaccount/token',
    );
    const reader = objects.find(
      (o) => o.kind === 'ClusterRole' && o.metadata.name === 'probe-metrics-reader',
    );
    expect(reader.rules).toEqual([{ nonResourceURLs: ['/metrics'], verbs: ['get'] }]);
    // Into the operator's pods only their one port, the one the probes and the scraper use. (Their labels and
    // no other pods': selectors.test.ts.)
    const policy = objects.find((o) => o.kind === 'NetworkPolicy');
    expect(policy.spec).toEqual({
      podSelector: { matchLabels: operator.spec.template.metadata.labels },
      policyTypes: ['Ingress'],
      ingress: [{ ports: [{ port: 'metrics', protocol: 'TCP' }] }],
    });
    // No wildcard grants anywhere.
    for (const role of objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')) {
      for (const rule of role.rules) {
        // A rule names resources in API groups, or non-resource URLs (the metrics reader's /metrics).
        const targets = [
          ...(rule.resources ?? []),
          ...(rule.apiGroups ?? []),
          ...(rule.nonResourceURLs ?? []),
        ];
        expect(targets.length).toBeGreaterThan(0);
        expect([...rule.verbs, ...targets]).not.toContain('*');
      }
    }
  });

  it('pins its images by digest when given one, as npm run images writes them', async () => {
    const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
    const pins = ['--set', `image.digest=${digest}`];
    if (chart.daemonSet) pins.push('--set', `agent.image.digest=${digest}`);
    const result = await helm('template', 'probe', dir, ...pins);
    expect(result.code).toBe(0);
    const images = parseAllDocuments(result.stdout)
      .map((d) => d.toJS())
      .filter((o) => o?.kind === 'Deployment' || o?.kind === 'DaemonSet')
      .flatMap((o) => o.spec.template.spec.containers.map((c: { image: string }) => c.image));
    expect(images.length).toBe(chart.daemonSet ? 2 : 1);
    for (const image of images)
      expect(image).toMatch(new RegExp(`^ghcr\\.io/kok-dev/[a-z-]+:0\\.1\\.0@${digest}$`));
    const refused = await helm('template', 'probe', dir, '--set', 'image.digest=latest');
    expect(refused.code).not.toBe(0);
  });

  it('refuses values that break values.schema.json', async () => {
    const result = await helm('template', 'probe', dir, '--set', 'replicaCount=0');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/replicaCount/);
  });

  it('installs, upgrades and uninstalls cleanly on a real apiserver', async () => {
    const namespace = uniqueName('chart');
    const release = uniqueName(chart.name.split('-')[0] as string);
    const kubeConfig = sharedKubeConfig();
    const apps = kubeConfig.makeApiClient(AppsV1Api);

    const install = await helm(
      'install',
      release,
      dir,
      '-n',
      namespace,
      '--create-namespace',
      ...userRolesOf(release),
      '--wait',
      '--timeout',
      '120s',
    );
    expect(install.stderr).not.toMatch(/Error/);
    expect(install.code).toBe(0);

    const extensions = kubeConfig.makeApiClient(ApiextensionsV1Api);
    for (const crd of chart.crds) {
      const established = await eventually(`${crd} Established`, async () => {
        const object = await extensions.readCustomResourceDefinition({ name: crd });
        return object.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
      });
      expect(established).toBe(true);
    }
    const ready = await eventually('operator pods Ready', async () => {
      const deployment = await apps.readNamespacedDeployment({ namespace, name: release });
      return deployment.status?.readyReplicas === 2 && deployment;
    });
    expect(ready.status?.readyReplicas).toBe(2);
    if (chart.daemonSet) {
      const agents = await eventually('node-agent pods Running on every node', async () => {
        const daemonSet = await apps.readNamespacedDaemonSet({ namespace, name: `${release}-agent` });
        const { desiredNumberScheduled = 0, numberReady = -1 } = daemonSet.status ?? {};
        return desiredNumberScheduled >= 3 && numberReady === desiredNumberScheduled && daemonSet;
      });
      expect(agents.status?.numberReady).toBeGreaterThanOrEqual(3);
    }

    const upgrade = await helm(
      'upgrade',
      release,
      dir,
      '-n',
      namespace,
      '--set',
      'replicaCount=3',
      ...userRolesOf(release),
      '--wait',
      '--timeout',
      '120s',
    );
    expect(upgrade.code).toBe(0);
    const scaled = await eventually('3 operator pods Ready', async () => {
      const deployment = await apps.readNamespacedDeployment({ namespace, name: release });
      return deployment.status?.readyReplicas === 3 && deployment;
    });
    expect(scaled.spec?.replicas).toBe(3);

    const uninstall = await helm('uninstall', release, '-n', namespace, '--wait', '--timeout', '120s');
    expect(uninstall.code).toBe(0);
    await expect(apps.readNamespacedDeployment({ namespace, name: release })).rejects.toMatchObject({
      code: 404,
    });
    const rbac = kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    await expect(rbac.readClusterRole({ name: release })).rejects.toMatchObject({ code: 404 });
    // CRDs stay (helm never deletes CRDs: deleting them would delete every Cluster and Machine).
    await expect(
      extensions.readCustomResourceDefinition({ name: chart.crds[0] as string }),
    ).resolves.toBeDefined();
  });
});

describe('chart kube-on-kube-operator, namespaced', () => {
  const kubeOnKubeDir = join(chartsDir, 'kube-on-kube-operator');

  it('with watchNamespace grants the operator nothing namespaced beyond that namespace', async () => {
    const result = await helm(
      'template',
      'probe',
      kubeOnKubeDir,
      '-n',
      'kok-system',
      '--set',
      'watchNamespace=fleet',
    );
    expect(result.code).toBe(0);
    const objects = parseAllDocuments(result.stdout)
      .map((d) => d.toJS())
      .filter(Boolean);
    const role = objects.find((o) => o.kind === 'Role' && o.metadata.name === 'probe');
    expect(role.metadata.namespace).toBe('fleet');
    expect(role.rules.flatMap((r: { resources: string[] }) => r.resources)).toEqual(
      expect.arrayContaining(['secrets', 'deployments', 'statefulsets', 'clusters', 'networkpolicies']),
    );
    const binding = objects.find((o) => o.kind === 'RoleBinding' && o.metadata.name === 'probe');
    expect(binding.metadata.namespace).toBe('fleet');
    // Cluster-wide: only the token and access reviews that guard /metrics, and the scrapers' role.
    const clusterRules = objects
      .filter((o) => o.kind === 'ClusterRole')
      .flatMap((o) => o.rules)
      .flatMap((r: { resources?: string[]; nonResourceURLs?: string[] }) => r.resources ?? r.nonResourceURLs);
    expect(clusterRules.sort()).toEqual(['/metrics', 'subjectaccessreviews', 'tokenreviews']);
  });
});

describe('chart kube-on-kube-operator, etcd snapshots', () => {
  const kubeOnKubeDir = join(chartsDir, 'kube-on-kube-operator');
  const snapshotDir = '/var/lib/kok/etcd-snapshots';

  async function renderDeployment(...sets: string[]) {
    const result = await helm(
      'template',
      'probe',
      kubeOnKubeDir,
      '-n',
      'default',
      '-s',
      'templates/deployment.yaml',
      ...sets.flatMap((s) => ['--set', s]),
    );
    expect(result.code, result.stderr).toBe(0);
    return { yaml: result.stdout, deployment: parseAllDocuments(result.stdout)[0]?.toJS() };
  }

  it('with etcdSnapshots.existingClaim mounts the claim and points --etcd-snapshot-dir at it', async () => {
    const { yaml, deployment } = await renderDeployment('etcdSnapshots.existingClaim=etcd-snapshots-claim');
    const pod = deployment.spec.template.spec;
    expect(pod.volumes).toEqual([
      { name: 'etcd-snapshots', persistentVolumeClaim: { claimName: 'etcd-snapshots-claim' } },
    ]);
    const container = pod.containers[0];
    expect(container.volumeMounts).toEqual([{ name: 'etcd-snapshots', mountPath: snapshotDir }]);
    expect(container.args).toContain(`--etcd-snapshot-dir=${snapshotDir}`);
    // Still non-root, and the volume's files are the operator's group's.
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, fsGroup: 65532 });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true });
    // The apiserver takes the pod template as rendered.
    const file = join(mkdtempSync(join(tmpdir(), 'kok-chart-')), 'deployment.yaml');
    writeFileSync(file, yaml);
    const applied = await kubectl('apply', '--dry-run=server', '-f', file);
    expect(applied.code, applied.stderr).toBe(0);
  });

  it('without it takes no snapshots: no volume, no mount, no flag, no fsGroup', async () => {
    const { deployment } = await renderDeployment();
    const pod = deployment.spec.template.spec;
    expect(pod.volumes).toBeUndefined();
    expect(pod.containers[0].volumeMounts).toBeUndefined();
    expect(pod.containers[0].args.join(' ')).not.toContain('--etcd-snapshot-dir');
    expect(pod.securityContext.fsGroup).toBeUndefined();
  });

  it('refuses a claim name that is not a Kubernetes name', async () => {
    const result = await helm(
      'template',
      'probe',
      kubeOnKubeDir,
      '--set',
      'etcdSnapshots.existingClaim=Snaps_1',
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/existingClaim/);
  });
});

describe('chart kube-on-kube-operator, control-plane images by digest', () => {
  const kubeOnKubeDir = join(chartsDir, 'kube-on-kube-operator');
  const apiServer = 'registry.k8s.io/kube-apiserver:v1.36.3';
  const etcd = 'registry.k8s.io/etcd:3.6.16-0';
  const digest = `sha256:${'ab'.repeat(32)}`;

  function valuesFile(digests: Record<string, string>): string {
    const file = join(mkdtempSync(join(tmpdir(), 'kok-chart-')), 'values.yaml');
    writeFileSync(file, JSON.stringify({ controlPlaneImageDigests: digests }));
    return file;
  }

  async function operatorArgs(...extra: string[]): Promise<string[]> {
    const result = await helm(
      'template',
      'probe',
      kubeOnKubeDir,
      '-s',
      'templates/deployment.yaml',
      ...extra,
    );
    expect(result.code, result.stderr).toBe(0);
    return parseAllDocuments(result.stdout)[0]?.toJS().spec.template.spec.containers[0].args;
  }

  it('passes each as --image-digest=<reference>@<digest>, and none by default', async () => {
    const args = await operatorArgs('-f', valuesFile({ [apiServer]: digest, [etcd]: digest }));
    expect(args.filter((a) => a.startsWith('--image-digest='))).toEqual([
      `--image-digest=${etcd}@${digest}`,
      `--image-digest=${apiServer}@${digest}`,
    ]);
    expect((await operatorArgs()).filter((a) => a.startsWith('--image-digest'))).toEqual([]);
  });

  it.each([
    ['a digest that is not sha256 hex', { [apiServer]: 'sha256:abc' }],
    ['a reference without a tag', { 'registry.k8s.io/kube-apiserver': digest }],
  ])('refuses %s', async (_, digests) => {
    const result = await helm('template', 'probe', kubeOnKubeDir, '-f', valuesFile(digests));
    expect(result.code).not.toBe(0);
    // helm names the value, or for a bad key the key itself.
    expect(result.stderr).toMatch(
      /controlPlaneImageDigests|invalid propertyName 'registry.k8s.io\/kube-apiserver'/,
    );
  });
});
