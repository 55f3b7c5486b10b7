// End to end: the kube-on-kube-operator renders a Cluster, the meta-cluster's
// scheduler puts its pods on the runtime's Node, and the runtime boots them for
// real: etcd, then a kube-apiserver that answers /readyz and `kubectl get ns`.
import { eventually } from '@kok/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProbe } from './probe.ts';
import type { RealBoot } from './test-support/real-boot.ts';
import { startRealBoot } from './test-support/real-boot.ts';

const namespace = 'biz';
const clusterName = 'real';

let boot: RealBoot;
/** The operator runs this apiserver image by digest (--image-digest); etcd's stays by tag. */
const pinnedApiServer = 'registry.k8s.io/kube-apiserver:v1.36.3';
const apiServerDigest = `sha256:${'5e'.repeat(32)}`;

beforeAll(async () => {
  boot = await startRealBoot({
    namespace,
    workDirPrefix: 'kok-real-boot-',
    operatorArgs: () => [`--image-digest=${pinnedApiServer}@${apiServerDigest}`],
  });
});

afterAll(async () => {
  await boot?.stop();
});

describe('a Cluster rendered by the operator, booted by the local pod runtime', () => {
  it('runs etcd and kube-apiserver for real, and the biz apiserver serves kubectl', async () => {
    const { runtime, readyPod } = boot;
    await boot.createCluster(clusterName);

    const etcdPod = await readyPod('etcd');
    expect(etcdPod.spec?.nodeName).toBe(runtime.nodeName);
    expect(etcdPod.status?.podIP).toMatch(/^127\./);
    expect(etcdPod.status?.phase).toBe('Running');
    // The operator reads etcd's own view through its member API, dialling the member's pod address.
    const etcdStatus = await eventually(
      'status.etcd to name the one member, healthy and leader',
      async () => {
        const etcd = (await boot.getCluster(clusterName)).status?.etcd;
        return etcd?.leader && etcd.members?.every((m) => m.healthy) ? etcd : undefined;
      },
      60_000,
      250,
    );
    expect(etcdStatus).toMatchObject({
      members: [
        {
          name: `${clusterName}-etcd-0`,
          id: expect.stringMatching(/^\d+$/),
          isLearner: false,
          healthy: true,
        },
      ],
      leader: `${clusterName}-etcd-0`,
      dbSizeBytes: expect.any(Number),
    });
    expect(etcdStatus.dbSizeBytes).toBeGreaterThan(0);

    const apiServerPod = await readyPod('kube-apiserver');
    expect(apiServerPod.spec?.containers[0]?.image).toBe(`${pinnedApiServer}@${apiServerDigest}`);
    expect(etcdPod.spec?.containers[0]?.image).not.toContain('@');
    const ip = apiServerPod.status?.podIP ?? '';
    expect(ip).toMatch(/^127\./);
    expect(ip).not.toBe(etcdPod.status?.podIP);
    // Readiness came from the real /readyz, which we ask again here.
    const container = apiServerPod.spec?.containers[0];
    expect(container).toBeDefined();
    expect(await runProbe(container?.readinessProbe ?? {}, container ?? { name: '' }, ip)).toBe(true);

    // The admin kubeconfig the operator published, pointed at the pod's address (the Service name keeps TLS happy).
    const bizKubeconfig = await boot.adminKubeconfig(clusterName, ip, 'biz.kubeconfig');
    const kubectl = (...args: string[]) => boot.kubectlWith(bizKubeconfig, ...args);
    expect(kubectl('get', '--raw', '/readyz')).toBe('ok');
    const namespaces = kubectl('get', 'ns', '-o', 'name');
    expect(namespaces).toContain('namespace/default');
    expect(namespaces).toContain('namespace/kube-system');

    // The biz controller-manager and scheduler run too: Ready from their own /healthz, holding their leases in the biz cluster.
    for (const component of ['kube-controller-manager', 'kube-scheduler']) {
      const pod = await readyPod(component);
      expect(pod.spec?.nodeName).toBe(runtime.nodeName);
      await eventually(
        `${component} holds its lease in the biz cluster`,
        () =>
          kubectl('get', 'lease', '-n', 'kube-system', component, '-o', 'jsonpath={.spec.holderIdentity}')
            .length > 0,
        60_000,
        250,
      );
    }

    // Once the control plane is Available: CoreDNS in the biz-cluster's kube-system, kube-dns at the tenth service
    // address. kube-proxy is not deployed, and the Cluster says why: it names no address nodes reach the apiserver at.
    const addons = await eventually(
      'AddonsReady written',
      async () => {
        const status = (await boot.getCluster(clusterName)).status;
        const ready = status?.conditions?.find((c) => c.type === 'AddonsReady');
        return ready?.reason === 'NotDeployed' && status?.addons ? { ready, status } : undefined;
      },
      60_000,
      500,
    );
    expect(addons.ready.status).toBe('False');
    expect(addons.ready.message).toMatch(
      /^kubeProxy not deployed: .*spec.controlPlane.apiServer.advertiseAddress/,
    );
    // No Node runs its pods here: none is available.
    expect(addons.ready.message).toContain('Deployment kube-system/coredns rolls out v1.13.1: 0/2 available');
    expect(addons.status.addons).toEqual({
      coreDNS: { replicas: 2, ready: 0, version: '' },
      kubeProxy: { replicas: 0, ready: 0, version: '' },
    });
    expect(
      kubectl('get', 'service', '-n', 'kube-system', 'kube-dns', '-o', 'jsonpath={.spec.clusterIP}'),
    ).toBe('10.96.0.10');
    expect(
      kubectl(
        'get',
        'deployment',
        '-n',
        'kube-system',
        'coredns',
        '-o',
        'jsonpath={.spec.template.spec.containers[0].image}',
      ),
    ).toBe('registry.k8s.io/coredns/coredns:v1.13.1');
    expect(kubectl('get', 'daemonset', '-n', 'kube-system', '-o', 'name')).toBe('');

    // Switched off, CoreDNS is removed from the biz-cluster, its RBAC too.
    await boot.patchCluster(clusterName, { spec: { addons: { coreDNS: { enabled: false } } } });
    await eventually(
      'CoreDNS gone from the biz-cluster',
      () =>
        [
          [
            '-n',
            'kube-system',
            'deployment/coredns',
            'service/kube-dns',
            'configmap/coredns',
            'serviceaccount/coredns',
          ],
          ['clusterrole/system:coredns', 'clusterrolebinding/system:coredns'],
        ].every((names) => kubectl('get', ...names, '--ignore-not-found', '-o', 'name') === ''),
      30_000,
      500,
    );
    const off = await eventually(
      'status.addons without CoreDNS',
      async () => {
        const status = (await boot.getCluster(clusterName)).status;
        return status?.addons?.coreDNS.replicas === 0 ? status : undefined;
      },
      30_000,
      500,
    );
    expect(off.addons?.coreDNS).toEqual({ replicas: 0, ready: 0, version: '' });
    expect(off.conditions?.find((c) => c.type === 'AddonsReady')?.message).not.toContain('coredns');

    // A DNS of the user's own under the same names is theirs: the operator leaves it and says so.
    kubectl('create', 'configmap', 'coredns', '-n', 'kube-system', '--from-literal=Corefile=.:53 {}');
    await eventually(
      'the ConfigMap of the user named as left alone',
      async () =>
        (await boot.getCluster(clusterName)).status?.conditions
          ?.find((c) => c.type === 'AddonsReady')
          ?.message?.includes('left alone, not made by this operator: ConfigMap kube-system/coredns') ===
        true,
      30_000,
      500,
    );
    expect(
      kubectl('get', 'configmap', '-n', 'kube-system', 'coredns', '-o', 'jsonpath={.data.Corefile}'),
    ).toBe('.:53 {}');
  });

  it('stops the process of a deleted pod and boots its replacement on a new address', async () => {
    const { core, runtime, podsOf, readyPod } = boot;
    const old = await readyPod('kube-apiserver');
    const oldIP = old.status?.podIP ?? '';
    const container = old.spec?.containers[0] ?? { name: '' };
    await core.deleteNamespacedPod({ name: old.metadata?.name ?? '', namespace });
    await eventually(
      'the old pod gone from the API',
      async () => (await podsOf('kube-apiserver')).every((pod) => pod.metadata?.name !== old.metadata?.name),
      60_000,
      250,
    );
    expect(runtime.podIP(namespace, old.metadata?.name ?? '')).toBeUndefined();
    // Nothing listens on the old address any more: the process is gone, not just the object.
    expect(await runProbe({ tcpSocket: { port: 'https' } }, container, oldIP)).toBe(false);

    const replacement = await readyPod('kube-apiserver', old.metadata?.name);
    expect(replacement.status?.podIP).toMatch(/^127\./);
    expect(replacement.status?.podIP).not.toBe(oldIP);
    expect(await runProbe(container.readinessProbe ?? {}, container, replacement.status?.podIP ?? '')).toBe(
      true,
    );
  });
});
