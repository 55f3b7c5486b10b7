import { ETCD_VERSION_BY_KUBERNETES_MINOR } from '@kok/api';
import type { Cluster } from '@kok/api';
import { describe, expect, it } from 'vitest';
import type { KubeletsObserved } from './cluster-plan.ts';
import { clusterPlanView } from './cluster-plan.ts';
import { renderClusterPlan } from './render/cluster-plan.ts';

const PAIRED_ETCD = ETCD_VERSION_BY_KUBERNETES_MINOR['1.36'] as string;
const NO_NODES: KubeletsObserved = { readable: true, nodes: [] };

interface Options {
  version?: string;
  running?: string;
  etcdRunning?: string;
  etcdVersion?: string;
  external?: boolean;
  paused?: boolean;
}

/** A Cluster at `version` whose status says every component runs `running` (default: `version`). */
function cluster(options: Options = {}): Cluster {
  const version = options.version ?? 'v1.36.3';
  const running = options.running ?? version;
  const at = (v: string) => ({ replicas: 3, ready: 3, version: v });
  return {
    apiVersion: 'clusters.kok.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name: 'prod', namespace: 'fleet', generation: 1 },
    spec: {
      version,
      ...(options.paused ? { paused: true } : {}),
      ...(options.external
        ? {
            etcd: {
              external: { endpoints: ['https://etcd.example:2379'], tlsSecretRef: { name: 'etcd-tls' } },
            },
          }
        : options.etcdVersion
          ? { etcd: { version: options.etcdVersion } }
          : {}),
    },
    status: {
      observedGeneration: 1,
      version: { current: running },
      components: {
        ...(options.external ? {} : { etcd: at(options.etcdRunning ?? options.etcdVersion ?? PAIRED_ETCD) }),
        apiServer: at(running),
        controllerManager: at(running),
        scheduler: at(running),
      },
    },
  } as Cluster;
}

const stepsOf = (view: ReturnType<typeof clusterPlanView>) => view.steps.map((s) => s.components);

describe('cluster plan', () => {
  it.each([
    ['a patch up', 'v1.36.4'],
    ['a patch down (how a bad patch release is rolled back)', 'v1.36.1'],
    ['the same version', 'v1.36.3'],
  ])('allows %s', (_, target) => {
    const view = clusterPlanView(cluster(), target, NO_NODES);
    expect(view.allowed).toBe(true);
    expect(view.refusals).toEqual([]);
  });

  it.each([
    ['a skipped minor', 'v1.38.0'],
    ['a minor down', 'v1.35.9'],
    ['another major', 'v2.36.0'],
  ])('refuses %s with the apiserver’s own message', (_, target) => {
    const view = clusterPlanView(cluster(), target, NO_NODES);
    expect(view.allowed).toBe(false);
    expect(view.steps).toEqual([]);
    expect(view.refusals).toEqual([
      `Invalid value: "${target}": version may go up one minor at a time and never down a minor (patch changes within a minor are allowed): upgrade through each minor in turn`,
    ]);
  });

  it('refuses what is not a version', () => {
    const view = clusterPlanView(cluster(), 'latest', NO_NODES);
    expect(view.allowed).toBe(false);
    expect(view.refusals.length).toBeGreaterThan(0);
  });

  it('moves the apiserver first, then controller-manager and scheduler together, each behind its gate', () => {
    const view = clusterPlanView(cluster(), 'v1.36.4', NO_NODES);
    expect(view.steps).toEqual([
      { step: 1, components: ['apiServer'], gates: ['APIServerAvailable'] },
      {
        step: 2,
        components: ['controllerManager', 'scheduler'],
        gates: ['ControllerManagerAvailable', 'SchedulerAvailable'],
      },
    ]);
    expect(view.components.find((c) => c.component === 'apiServer')).toMatchObject({
      from: 'v1.36.3',
      to: 'v1.36.4',
      fromImage: 'registry.k8s.io/kube-apiserver:v1.36.3',
      toImage: 'registry.k8s.io/kube-apiserver:v1.36.4',
      changes: true,
      step: 1,
      waitsFor: ['etcd'],
    });
    expect(view.components.find((c) => c.component === 'etcd')).toMatchObject({
      from: PAIRED_ETCD,
      to: PAIRED_ETCD,
      changes: false,
    });
    expect(view.etcd).toEqual({
      external: false,
      from: PAIRED_ETCD,
      to: PAIRED_ETCD,
      changes: false,
      pinned: false,
    });
  });

  it('moves etcd before everything else when its version changes', () => {
    const view = clusterPlanView(cluster({ etcdRunning: '3.6.15' }), 'v1.36.4', NO_NODES);
    expect(stepsOf(view)).toEqual([['etcd'], ['apiServer'], ['controllerManager', 'scheduler']]);
    expect(view.components[0]).toMatchObject({
      component: 'etcd',
      from: '3.6.15',
      to: PAIRED_ETCD,
      toImage: `registry.k8s.io/etcd:${PAIRED_ETCD}-0`,
      gate: 'EtcdAvailable',
    });
  });

  it('moves only what still differs when an upgrade is under way', () => {
    const half = cluster({ version: 'v1.36.4', running: 'v1.36.3' });
    half.status = {
      ...half.status,
      components: { ...half.status?.components, apiServer: { replicas: 3, ready: 3, version: 'v1.36.4' } },
    };
    const view = clusterPlanView(half, 'v1.36.4', NO_NODES);
    expect(view.inProgress).toBe('the operator is still moving the Cluster from v1.36.3 to v1.36.4');
    expect(stepsOf(view)).toEqual([['controllerManager', 'scheduler']]);
  });

  it('holds the Cluster when no etcd is paired with the target and none is set', () => {
    const view = clusterPlanView(cluster(), 'v1.37.0', NO_NODES);
    expect(view.allowed).toBe(true);
    expect(view.blocked).toMatch(
      /^no etcd version is paired with Kubernetes v1\.37\.0 .*set spec\.etcd\.version/,
    );
    expect(view.steps).toEqual([]);
  });

  it('keeps a pinned etcd across minors', () => {
    const view = clusterPlanView(cluster({ etcdVersion: '3.6.16' }), 'v1.37.0', NO_NODES);
    expect(view.blocked).toBeUndefined();
    expect(view.etcd).toMatchObject({ to: '3.6.16', changes: false, pinned: true });
    expect(stepsOf(view)).toEqual([['apiServer'], ['controllerManager', 'scheduler']]);
  });

  it('leaves an external etcd out', () => {
    const view = clusterPlanView(cluster({ external: true }), 'v1.36.4', NO_NODES);
    expect(view.etcd).toEqual({ external: true, changes: false, pinned: false });
    expect(view.components[0]).toMatchObject({ component: 'etcd', changes: false, note: expect.any(String) });
    expect(stepsOf(view)).toEqual([['apiServer'], ['controllerManager', 'scheduler']]);
  });

  it('says when the Cluster is paused', () => {
    expect(clusterPlanView(cluster({ paused: true }), 'v1.36.4', NO_NODES).paused).toBe(true);
    expect(clusterPlanView(cluster(), 'v1.36.4', NO_NODES).paused).toBe(false);
  });

  it.each([
    ['v1.36.3', undefined],
    ['v1.34.0', undefined],
    ['v1.33.9', 'kubelet v1.33.9 is 4 minor versions older than the apiserver v1.37.0 (at most 3 allowed)'],
    ['v1.38.0', 'kubelet v1.38.0 is newer than the apiserver v1.37.0'],
  ])('checks a kubelet at %s against an apiserver at the target', (kubeletVersion, problem) => {
    const view = clusterPlanView(cluster({ etcdVersion: '3.6.16' }), 'v1.37.0', {
      readable: true,
      nodes: [{ node: 'n1', kubeletVersion }],
    });
    if (!view.kubelets.readable) throw new Error('kubelets unreadable');
    expect(view.kubelets.problems).toBe(problem === undefined ? 0 : 1);
    if (problem === undefined) expect(view.kubelets.checked[0]?.problem).toBeUndefined();
    else expect(view.kubelets.checked[0]?.problem).toContain(problem);
  });

  it('a minor upgrade with kubelets outside the skew of the target: held, nothing moves; a patch is not', () => {
    const old = { readable: true as const, nodes: [{ node: 'worker-1', kubeletVersion: 'v1.33.0' }] };
    const minor = clusterPlanView(cluster({ etcdVersion: '3.6.16' }), 'v1.37.0', old);
    expect(minor.blocked).toBe(
      '1 of 1 kubelets are outside the skew policy of an apiserver at v1.37.0: a minor upgrade waits until they are upgraded or their Nodes are gone',
    );
    expect(minor.steps).toEqual([]);
    const patch = clusterPlanView(cluster({ etcdVersion: '3.6.16' }), 'v1.36.4', old);
    expect(patch.blocked).toBeUndefined();
    expect(patch.steps).not.toEqual([]);
  });

  it.each(['KubeletVersionSkew', 'KubeletVersionsUnknown'])(
    'passes on the message of the operator holding the upgrade for its kubelets (%s)',
    (reason) => {
      const held = cluster();
      held.status = {
        ...held.status,
        conditions: [
          {
            type: 'Degraded',
            status: 'True',
            reason,
            message: 'the upgrade to v1.37.0 waits: …',
            lastTransitionTime: '2030-01-01T00:00:00Z',
          },
        ],
      };
      const view = clusterPlanView(held, 'v1.37.0', NO_NODES);
      expect(view.heldForKubelets).toBe('the upgrade to v1.37.0 waits: …');
      expect(renderClusterPlan(view)).toContain(
        'Held:     the operator holds the upgrade for its kubelets: the upgrade to v1.37.0 waits: …',
      );
      expect(clusterPlanView(cluster(), 'v1.37.0', NO_NODES).heldForKubelets).toBeUndefined();
    },
  );

  it('passes on why the kubelets could not be read', () => {
    const view = clusterPlanView(cluster(), 'v1.36.4', { readable: false, reason: 'no kubeconfig yet' });
    expect(view.kubelets).toEqual({ readable: false, reason: 'no kubeconfig yet' });
  });
});

describe('cluster plan as text', () => {
  it('shows the version change, the order with images and gates, and the kubelets', () => {
    // etcd pinned, so the golden does not move with the operator's pairing table.
    const view = clusterPlanView(cluster({ etcdVersion: '3.6.16', etcdRunning: '3.6.15' }), 'v1.36.4', {
      readable: true,
      nodes: [
        { node: 'worker-2', kubeletVersion: 'v1.32.1' },
        { node: 'worker-1', kubeletVersion: 'v1.36.3' },
      ],
    });
    expect(renderClusterPlan(view)).toBe(
      `Cluster:  fleet/prod
Version:  v1.36.3 → v1.36.4
Allowed:  yes
etcd:     3.6.15 → 3.6.16

Upgrade order (each step starts once the gates of the one before are True at the new version):
STEP   COMPONENT                 VERSION             IMAGE                                             GATE                         WAITS FOR
1      etcd                      3.6.15 → 3.6.16     registry.k8s.io/etcd:3.6.16-0                     EtcdAvailable                services, pki
2      kube-apiserver            v1.36.3 → v1.36.4   registry.k8s.io/kube-apiserver:v1.36.4            APIServerAvailable           etcd
3      kube-controller-manager   v1.36.3 → v1.36.4   registry.k8s.io/kube-controller-manager:v1.36.4   ControllerManagerAvailable   apiServer
3      kube-scheduler            v1.36.3 → v1.36.4   registry.k8s.io/kube-scheduler:v1.36.4            SchedulerAvailable           apiServer
The node-operator runs spec.nodeOperator.version, which the Kubernetes version does not change.

Kubelets: 1 of 2 outside the skew policy of an apiserver at v1.36.4
NODE       KUBELET   SKEW
worker-1   v1.36.3   ok
worker-2   v1.32.1   kubelet v1.32.1 is 4 minor versions older than the apiserver v1.36.4 (at most 3 allowed); roll out a newer kubelet
`,
    );
  });

  it('says why the apiserver refuses, and lists no order then', () => {
    const text = renderClusterPlan(clusterPlanView(cluster(), 'v1.38.0', NO_NODES));
    expect(text).toContain(
      'Allowed:  no, the apiserver refuses it: Invalid value: "v1.38.0": version may go up one minor at a time',
    );
    expect(text).not.toContain('Upgrade order');
    expect(text).toContain('Kubelets: the biz-cluster has no Nodes');
  });

  it('says plainly when the kubelets could not be read, and when the operator would hold the Cluster', () => {
    const text = renderClusterPlan(
      clusterPlanView(cluster(), 'v1.37.0', { readable: false, reason: 'dial tcp: no such host' }),
    );
    expect(text).toContain(
      'Blocked:  the operator would hold the Cluster (Degraded): no etcd version is paired',
    );
    expect(text).toContain('No component moves while the Cluster is held.');
    expect(text).toContain('Kubelets: could not be read: dial tcp: no such host');
  });
});
