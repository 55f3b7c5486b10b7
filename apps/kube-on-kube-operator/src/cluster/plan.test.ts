import type {
  KubernetesObject,
  V1Deployment,
  V1PersistentVolumeClaim,
  V1Secret,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { ClusterConditions } from '@kok/api';
import type { ClusterSpec, ClusterStatus } from '@kok/api';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveCluster } from '../cluster-spec.ts';
import { controlPlaneComponents, nodeTierComponents } from '../components/bring-up-order.ts';
import type { ComponentName } from '../components/component.ts';
import { APISERVER_CLUSTER_IP, OWNER } from '../components/render-fixtures.ts';
import { endpointOf } from '../endpoint.ts';
import { NAME_CONFLICT_RECHECK_MIN_MS } from '../foreign-objects.ts';
import { clusterNames } from '../names.ts';
import type { NodeTierReport } from '../node-api/node-tier.ts';
import { NODE_API_HASH_ANNOTATION } from '../node-api/node-tier.ts';
import { pkiSpecs } from '../pki/certificates.ts';
import type { CertificateReport } from '../pki/certificate-lifecycle.ts';
import { ensureCertificates } from '../pki/certificate-lifecycle.ts';
import type { ClusterObject } from '../resource-types.ts';
import { LAST_AVAILABLE_ANNOTATION } from '../rollback.ts';
import { contentHash, templateHashOf, withTemplateHash } from '../template-hash.ts';
import type { Guarded } from './guards.ts';
import { BLOCKED_RECHECK_MS, guardCluster } from './guards.ts';
import { KUBELET_SKEW_RECHECK_MS } from './kubelet-skew.ts';
import type { ObservedCluster } from './observe.ts';
import type { ClusterPlan, PlanInputs, ProgressPlan } from './plan.ts';
import { planCluster, renderContextOf } from './plan.ts';
import type { PassOutcome } from './status.ts';
import {
  EXTERNAL_ETCD_SECRET_RECHECK_MS,
  heldStatus,
  passStatus,
  PROGRESS_RECHECK_MS,
  STEADY_RECHECK_MS,
} from './status.ts';

const at = new Date('2030-01-01T00:00:00Z');
const minutesAgo = (minutes: number) => new Date(at.getTime() - minutes * 60_000).toISOString();
const DEADLINE_MS = 10 * 60_000;
const names = clusterNames('fleet', 'prod');

function cluster(spec: Partial<ClusterSpec> = {}, status?: ClusterStatus, generation = 1): ClusterObject {
  return {
    apiVersion: 'clusters.kok.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name: 'prod', namespace: 'fleet', uid: OWNER.uid, generation },
    spec: { version: 'v1.36.3', ...spec },
    ...(status ? { status } : {}),
  };
}

let certificates: CertificateReport;
beforeAll(async () => {
  const resolved = resolveCluster(cluster());
  const specs = pkiSpecs({
    cluster: resolved,
    names,
    endpoint: endpointOf(resolved, names, undefined),
    apiServerClusterIP: APISERVER_CLUSTER_IP,
  });
  certificates = await ensureCertificates({
    cluster: cluster(),
    specs,
    existing: new Map(),
    options: {},
    now: at,
    held: false,
    settled: () => true,
  });
});

const key = (obj: KubernetesObject) => `${obj.kind}/${obj.metadata?.name}`;

/** A live object as its controller reports it once every replica runs it and is Ready. */
function running<T extends KubernetesObject>(obj: T): T {
  if (obj.kind !== 'Deployment' && obj.kind !== 'StatefulSet') return obj;
  const workload = obj as V1Deployment | V1StatefulSet;
  const replicas = workload.spec?.replicas ?? 1;
  return {
    ...obj,
    metadata: { ...obj.metadata, generation: 1 },
    status: {
      observedGeneration: 1,
      replicas,
      updatedReplicas: replicas,
      readyReplicas: replicas,
      availableReplicas: replicas,
    },
  };
}

/** A live object whose pods never became Ready, carrying the last revision that was Available. */
function neverReady(obj: V1Deployment, lastAvailableOf?: KubernetesObject): V1Deployment {
  const live = running(obj);
  const last = lastAvailableOf as V1Deployment | undefined;
  return {
    ...live,
    metadata: {
      ...live.metadata,
      ...(last
        ? {
            annotations: {
              ...live.metadata?.annotations,
              [LAST_AVAILABLE_ANNOTATION]: JSON.stringify({
                hash: templateHashOf(last),
                template: last.spec?.template,
              }),
            },
          }
        : {}),
    },
    status: { ...live.status, readyReplicas: 0, availableReplicas: 0 },
  };
}

interface World {
  spec?: Partial<ClusterSpec>;
  status?: ClusterStatus;
  generation?: number;
  /** Components whose objects run as rendered for `runningSpec`. */
  runs?: ComponentName[];
  /** The spec the running components were rendered for. Default: `spec`. */
  runningSpec?: Partial<ClusterSpec>;
  /** Live objects that replace or join the running ones, from the objects rendered for `spec`. */
  also?: (
    rendered: Map<string, KubernetesObject>,
    runningObjects: Map<string, KubernetesObject>,
  ) => KubernetesObject[];
  withNodeTier?: NodeTierWorld;
  /** With spec.etcd.external: the user's Secret as read. */
  externalEtcdSecret?: V1Secret;
}

type NodeTierWorld = { nodeOperatorDeployment?: V1Deployment };

function renderedFor(
  spec: Partial<ClusterSpec>,
  only?: readonly ComponentName[],
  externalEtcdSecret?: V1Secret,
): Map<string, KubernetesObject> {
  const observed = observedCluster(
    cluster(spec),
    () => undefined,
    externalEtcdSecret ? { externalEtcdSecret } : {},
  );
  const ctx = renderContextOf(observed, certificates.material);
  return new Map(
    [...controlPlaneComponents, ...nodeTierComponents]
      .filter((c) => !only || only.includes(c.name))
      .flatMap((c) => c.render(ctx) ?? [])
      .map((obj) => [key(obj), obj]),
  );
}

function observedCluster(
  object: ClusterObject,
  live: ObservedCluster['live'],
  extra: Partial<ObservedCluster> = {},
): ObservedCluster {
  const resolved = resolveCluster(object);
  return {
    cluster: object,
    resolved,
    names,
    endpoint: endpointOf(resolved, names, undefined),
    imageDigests: new Map(),
    etcdStatefulSetExists: true,
    etcdPodsNotReady: false,
    live,
    ...extra,
  };
}

function inputsFor(world: World): PlanInputs {
  const spec = world.spec ?? {};
  const runningObjects = new Map(
    [...renderedFor(world.runningSpec ?? spec, world.runs ?? [], world.externalEtcdSecret).values()].map(
      (obj) => [key(obj), running(obj)],
    ),
  );
  for (const obj of world.also?.(renderedFor(spec, undefined, world.externalEtcdSecret), runningObjects) ??
    [])
    runningObjects.set(key(obj), obj);
  const object = cluster(spec, world.status, world.generation);
  return {
    ...observedCluster(object, (desired) => runningObjects.get(key(desired)), {
      ...(world.withNodeTier ? { nodeTier: world.withNodeTier } : {}),
      ...(world.externalEtcdSecret ? { externalEtcdSecret: world.externalEtcdSecret } : {}),
    }),
    components: controlPlaneComponents,
    progressDeadlineMs: DEADLINE_MS,
    certificates,
    pkiFingerprints: world.status?.pki,
  };
}

const progress = (plan: ClusterPlan): ProgressPlan => {
  if (plan.kind !== 'progress') throw new Error(`held: ${plan.hold.reason}: ${plan.hold.message}`);
  return plan;
};

/** What a plan does, in a line a reader can check against the bring-up order. */
function summary(plan: ClusterPlan): string {
  if (plan.kind === 'hold') return `hold ${plan.hold.reason}`;
  const parts = [
    ...plan.rollbacks.map((w) => `rollback ${key(w.desired)}`),
    ...plan.events.map((e) => `event ${e.reason}`),
    ...plan.writes.map((w) => `write ${w.component.name}`),
    ...(plan.halted ? [`halted ${plan.halted.reason}`] : []),
  ];
  return parts.join(', ') || 'nothing';
}

const controlPlane: ComponentName[] = [
  'services',
  'networkPolicies',
  'pki',
  'etcd',
  'apiServer',
  'controllerManager',
  'scheduler',
];
const upTo = (last: ComponentName) => controlPlane.slice(0, controlPlane.indexOf(last) + 1);

/** The apiserver's gate opened `minutes` ago, in the operation of generation 1. */
const apiServerGateOpen = (minutes: number): ClusterStatus => ({
  observedGeneration: 1,
  version: { current: 'v1.36.3' },
  lastOperation: { type: 'Upgrade', state: 'Processing', startedAt: minutesAgo(minutes + 1) },
  gates: [
    {
      name: ClusterConditions.EtcdAvailable,
      startedAt: minutesAgo(minutes + 1),
      completedAt: minutesAgo(minutes),
    },
    { name: ClusterConditions.APIServerAvailable, startedAt: minutesAgo(minutes) },
  ],
});

describe('planCluster', () => {
  it.each<[string, World, string]>([
    ['a new Cluster: what depends on nothing first', {}, 'write services, write networkPolicies'],
    ['Services in place: the PKI', { runs: ['services', 'networkPolicies'] }, 'write pki'],
    ['PKI in place: etcd', { runs: upTo('pki') }, 'write etcd'],
    ['etcd Available: the apiserver', { runs: upTo('etcd') }, 'write apiServer'],
    [
      'apiserver Available: controller-manager and scheduler side by side',
      { runs: upTo('apiServer') },
      'write controllerManager, write scheduler',
    ],
    ['everything Available at the desired version: nothing', { runs: controlPlane }, 'nothing'],
    [
      'a patch upgrade: the apiserver first, etcd and the PKI untouched',
      { spec: { version: 'v1.36.4' }, runningSpec: { version: 'v1.36.3' }, runs: controlPlane },
      'write apiServer',
    ],
    [
      'the apiserver past its progress deadline: rolled back to its last Available revision, then nothing',
      {
        spec: { version: 'v1.36.4' },
        runningSpec: { version: 'v1.36.3' },
        runs: controlPlane,
        status: apiServerGateOpen(11),
        also: (rendered, runningObjects) => [
          neverReady(
            rendered.get('Deployment/prod-kube-apiserver') as V1Deployment,
            runningObjects.get('Deployment/prod-kube-apiserver'),
          ),
        ],
      },
      'rollback Deployment/prod-kube-apiserver, event RolledBack, halted ProgressDeadlineExceeded',
    ],
    [
      'past the deadline with no earlier Available revision: an Event, and the gates go on',
      {
        spec: { version: 'v1.36.4' },
        runningSpec: { version: 'v1.36.3' },
        runs: controlPlane,
        status: apiServerGateOpen(11),
        also: (rendered) => [neverReady(rendered.get('Deployment/prod-kube-apiserver') as V1Deployment)],
      },
      'event ProgressDeadlineExceeded',
    ],
    [
      'within the deadline: waits',
      {
        spec: { version: 'v1.36.4' },
        runningSpec: { version: 'v1.36.3' },
        runs: controlPlane,
        status: apiServerGateOpen(9),
        also: (rendered, runningObjects) => [
          neverReady(
            rendered.get('Deployment/prod-kube-apiserver') as V1Deployment,
            runningObjects.get('Deployment/prod-kube-apiserver'),
          ),
        ],
      },
      'nothing',
    ],
    [
      'rolled back before: nothing is written until the spec changes',
      {
        spec: { version: 'v1.36.4' },
        runningSpec: { version: 'v1.36.3' },
        runs: upTo('etcd'),
        status: {
          observedGeneration: 1,
          conditions: [
            {
              type: ClusterConditions.Degraded,
              status: 'True',
              reason: 'ProgressDeadlineExceeded',
              message: 'rolled back',
              observedGeneration: 1,
              lastTransitionTime: minutesAgo(1),
            },
          ],
        },
      },
      'halted ProgressDeadlineExceeded',
    ],
    [
      'an object of a name this Cluster needs under another controller: held',
      {
        runs: controlPlane,
        also: (rendered) => [
          {
            ...rendered.get('Service/prod-etcd'),
            metadata: {
              ...rendered.get('Service/prod-etcd')?.metadata,
              ownerReferences: [{ ...OWNER, name: 'other', uid: 'someone-else' }],
            },
          },
        ],
      },
      'hold NameConflict',
    ],
    [
      'a node-operator Deployment of this name that another Cluster controls: held',
      {
        runs: controlPlane,
        withNodeTier: {
          nodeOperatorDeployment: {
            kind: 'Deployment',
            metadata: { name: names.nodeOperator, ownerReferences: [{ ...OWNER, uid: 'someone-else' }] },
          },
        },
      },
      'hold NameConflict',
    ],
  ])('%s', (_, world, expected) => {
    expect(summary(planCluster(inputsFor(world), at))).toBe(expected);
  });

  it('writes carry the resourceVersion they were decided on, and the last Available revision', () => {
    const live = running(renderedFor({}).get('Deployment/prod-kube-apiserver') as V1Deployment);
    const plan = progress(
      planCluster(
        inputsFor({
          spec: { version: 'v1.36.4' },
          runningSpec: { version: 'v1.36.3' },
          runs: controlPlane,
          status: { observedGeneration: 1, version: { current: 'v1.36.3' } },
          also: () => [{ ...live, metadata: { ...live.metadata, resourceVersion: '42' } }],
        }),
        at,
      ),
    );
    const [write] = plan.writes[0]?.objects ?? [];
    expect(write?.observed?.metadata?.resourceVersion).toBe('42');
    expect(JSON.parse(write?.desired.metadata?.annotations?.[LAST_AVAILABLE_ANNOTATION] ?? '{}').hash).toBe(
      templateHashOf(live),
    );
    expect(plan.upgrading).toBe(true);
  });

  describe('an etcd join Secret labelled for this Cluster that nothing controls (restored from a backup)', () => {
    const restoredJoin = (rendered: Map<string, KubernetesObject>, content?: Record<string, string>) => {
      const join = rendered.get(`Secret/${names.secrets.etcdJoin}`) as V1Secret;
      const { ownerReferences: _owners, ...metadata } = join.metadata ?? {};
      if (!content) return { ...join, metadata };
      const data = Object.fromEntries(
        Object.entries(content).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
      );
      // Hashed as the operator hashed it when it wrote that content.
      return withTemplateHash({ ...join, metadata, data }, contentHash(content));
    };
    const etcdWrite = (world: World) =>
      progress(planCluster(inputsFor(world), at)).writes.find((w) => w.component.name === 'etcd');

    it('is written over with the bootstrap this Cluster wants, not held as a name conflict', () => {
      // What a backup taken after etcd had quorum held: join an existing cluster, no peers to find.
      const existing = { 'initial-cluster-state': 'existing' };
      const write = etcdWrite({
        runs: upTo('pki'),
        also: (rendered) => [restoredJoin(rendered, existing)],
      });
      const join = write?.objects.find((o) => o.desired.metadata?.name === names.secrets.etcdJoin);
      const decoded = (key: string) =>
        Buffer.from((join?.desired as V1Secret | undefined)?.data?.[key] ?? '', 'base64').toString();
      expect(decoded('initial-cluster-state')).toBe('new');
      expect(decoded('initial-cluster')).toContain(`${names.etcd}-0=https://`);
      expect(join?.desired.metadata?.ownerReferences).toEqual([OWNER]);
    });

    it("is made the Cluster's own even when it already says what the Cluster wants", () => {
      const write = etcdWrite({ runs: upTo('etcd'), also: (rendered) => [restoredJoin(rendered)] });
      expect(write?.objects.map((o) => key(o.desired))).toContain(`Secret/${names.secrets.etcdJoin}`);
    });
  });

  it('waits as long as a name conflict has lasted, at least the minimum', () => {
    const plan = planCluster(
      inputsFor({
        runs: ['services'],
        also: (rendered) => [
          { ...rendered.get('Service/prod-etcd'), metadata: { name: 'prod-etcd', ownerReferences: [] } },
        ],
      }),
      at,
    );
    expect(plan.kind === 'hold' && plan.hold.requeueAfter).toBe(NAME_CONFLICT_RECHECK_MIN_MS);
  });
});

describe('passStatus', () => {
  const pass = (world: World, outcome: PassOutcome = {}) => {
    const inputs = inputsFor(world);
    return passStatus(inputs, progress(planCluster(inputs, at)), outcome, at);
  };
  const condition = (status: ClusterStatus, type: string) =>
    status.conditions?.find((c) => c.type === type)?.status;
  const renewalWake = () => (certificates.material.renewalTime?.getTime() ?? Infinity) - at.getTime() + 100;

  it('everything Available: Running, Available, and a look again at the steady pace or the next renewal', () => {
    const { status, requeueAfter } = pass({ runs: controlPlane });
    expect(status.phase).toBe('Ready');
    expect(condition(status, ClusterConditions.Available)).toBe('True');
    expect(requeueAfter).toBe(Math.min(STEADY_RECHECK_MS, renewalWake()));
  });

  it('while gates are open: looks again at the progress pace', () => {
    const { status, requeueAfter } = pass({ runs: upTo('etcd') });
    expect(condition(status, ClusterConditions.Progressing)).toBe('True');
    expect(requeueAfter).toBe(PROGRESS_RECHECK_MS);
  });

  it('a gate near its deadline: looks again when it expires', () => {
    const { requeueAfter } = pass({
      spec: { version: 'v1.36.4' },
      runningSpec: { version: 'v1.36.3' },
      runs: controlPlane,
      status: apiServerGateOpen(9.9),
      also: (rendered) => [neverReady(rendered.get('Deployment/prod-kube-apiserver') as V1Deployment)],
    });
    expect(requeueAfter).toBe(0.1 * 60_000 + 100);
  });

  it('a failed write: Degraded with the error', () => {
    const { status } = pass(
      { runs: upTo('etcd') },
      { applyError: 'writing Deployment prod-kube-apiserver failed' },
    );
    expect(status.phase).toBe('Degraded');
    expect(status.conditions?.find((c) => c.type === ClusterConditions.Degraded)?.message).toBe(
      'writing Deployment prod-kube-apiserver failed',
    );
  });

  it('the node tier: its conditions, and its retry when sooner', () => {
    const nodeTier: NodeTierReport = {
      conditions: [{ type: 'NodeAPIInstalled', status: false, reason: 'Retrying', message: 'unreachable' }],
      nodeOperator: {},
      requeueAfterMs: 5_000,
    };
    const { status, requeueAfter } = pass({ runs: controlPlane }, { nodeTier });
    expect(condition(status, 'NodeAPIInstalled')).toBe('False');
    expect(status.phase).toBe('Ready');
    expect(requeueAfter).toBe(5_000);
  });

  it('an external etcd: its Secret is read again at least every five minutes, and etcd is never initialized here', () => {
    const external = { endpoints: ['https://etcd.example:2379'], tlsSecretRef: { name: 'etcd-client' } };
    const externalEtcdSecret: V1Secret = {
      kind: 'Secret',
      metadata: { name: 'etcd-client', namespace: 'fleet' },
      data: { 'ca.crt': 'Y2E=', 'tls.crt': 'Y3J0', 'tls.key': 'a2V5' },
    };
    const { status, requeueAfter } = pass({
      spec: { etcd: { external } },
      runs: controlPlane,
      externalEtcdSecret,
    });
    expect(requeueAfter).toBe(EXTERNAL_ETCD_SECRET_RECHECK_MS);
    expect(status.etcd?.initializedTime).toBeUndefined();
  });

  it('records when etcd first had quorum, once', () => {
    expect(pass({ runs: upTo('etcd') }).status.etcd?.initializedTime).toBe('2030-01-01T00:00:00Z');
    const before = { etcd: { initializedTime: '2029-12-31T23:00:00Z' } };
    expect(pass({ runs: upTo('etcd'), status: before }).status.etcd?.initializedTime).toBe(
      '2029-12-31T23:00:00Z',
    );
  });
});

/** Running v1.36.3, asked for v1.37.0 (etcd pinned: no etcd is paired with 1.37), nothing written for it yet. */
function minorUpgrade(annotations: Record<string, string> = {}): ClusterObject {
  const object = cluster(
    { version: 'v1.37.0', etcd: { version: '3.6.16' } },
    { version: { current: 'v1.36.3', desired: 'v1.36.3' } },
  );
  return { ...object, metadata: { ...object.metadata, annotations } };
}

describe('guardCluster', () => {
  const claim = (name: string, labels: Record<string, string> = {}): V1PersistentVolumeClaim => ({
    kind: 'PersistentVolumeClaim',
    metadata: { name, labels },
  });
  const guard = (object: ClusterObject, extra: Partial<ObservedCluster> = {}) =>
    guardCluster(
      observedCluster(object, () => undefined, extra),
      at,
    );
  const verdict = (g: Guarded) =>
    g.kind === 'hold'
      ? `hold ${g.hold.reason} (${g.hold.requeueAfter} ms)`
      : g.kind === 'adopt'
        ? `adopt ${g.secrets.map((s) => s.metadata?.name).join(' ')}`
        : `proceed${g.pki ? ` relabel [${g.pki.relabel.join(' ')}]` : ''}`;

  it.each<[string, ClusterObject, Partial<ObservedCluster>, string]>([
    ['nothing in the way', cluster(), {}, 'proceed'],
    [
      'a Kubernetes minor no etcd is paired with',
      cluster({ version: 'v1.99.0' }),
      {},
      `hold EtcdVersionUnknown (${BLOCKED_RECHECK_MS} ms)`,
    ],
    [
      'an external etcd whose Secret does not exist',
      cluster({
        etcd: { external: { endpoints: ['https://etcd.example:2379'], tlsSecretRef: { name: 'etcd' } } },
      }),
      { externalEtcdSecret: undefined },
      `hold ExternalEtcdSecretNotFound (${BLOCKED_RECHECK_MS} ms)`,
    ],
    [
      'a claim of an etcd member name that is not this Cluster’s',
      cluster(),
      { newMemberClaims: { names: [names.etcdClaim(0)], claims: [claim(names.etcdClaim(0))] } },
      `hold NameConflict (${NAME_CONFLICT_RECHECK_MIN_MS} ms)`,
    ],
    [
      'etcd initialized once, its StatefulSet and volumes gone',
      cluster({}, { etcd: { initializedTime: minutesAgo(60) } }),
      { etcdStatefulSetExists: false, newMemberClaims: { names: [names.etcdClaim(0)], claims: [undefined] } },
      `hold EtcdDataLost (${BLOCKED_RECHECK_MS} ms)`,
    ],
    [
      'a minor upgrade while a kubelet is 4 minors behind it',
      minorUpgrade(),
      { kubelets: { readable: true, nodes: [{ node: 'w-1', kubeletVersion: 'v1.33.0' }] } },
      `hold KubeletVersionSkew (${KUBELET_SKEW_RECHECK_MS} ms)`,
    ],
    [
      'a minor upgrade with every kubelet within 3 minors of it',
      minorUpgrade(),
      { kubelets: { readable: true, nodes: [{ node: 'w-1', kubeletVersion: 'v1.34.0' }] } },
      'proceed',
    ],
    [
      'a minor upgrade whose biz-cluster Nodes cannot be read, with the node tier installed',
      minorUpgrade({ [NODE_API_HASH_ANNOTATION]: '0123456789abcdef' }),
      { kubelets: { readable: false, reason: 'connection refused' } },
      `hold KubeletVersionsUnknown (${KUBELET_SKEW_RECHECK_MS} ms)`,
    ],
    [
      'a minor upgrade whose biz-cluster Nodes cannot be read, no node tier yet',
      minorUpgrade(),
      { kubelets: { readable: false, reason: 'connection refused' } },
      'proceed',
    ],
  ])('%s', (_, object, extra, expected) => {
    expect(verdict(guard(object, extra))).toBe(expected);
  });

  describe('the PKI', () => {
    const specs = () => {
      const resolved = resolveCluster(cluster());
      return pkiSpecs({
        cluster: resolved,
        names,
        endpoint: endpointOf(resolved, names, undefined),
        apiServerClusterIP: APISERVER_CLUSTER_IP,
      });
    };
    const secrets = () =>
      new Map([...renderedFor({}, ['pki']).values()].map((s) => [s.metadata?.name ?? '', s as V1Secret]));
    const withOwners = (secret: V1Secret, ownerReferences: V1Secret['metadata']) => ({
      ...secret,
      metadata: { ...secret.metadata, ...ownerReferences },
    });

    it('ours, one read past the cache: proceeds and labels it again', () => {
      const found = secrets();
      const g = guard(cluster(), { pki: { specs: specs(), found, unlabelled: [names.secrets.ca] } });
      expect(verdict(g)).toBe(`proceed relabel [${names.secrets.ca}]`);
      expect(g.kind === 'proceed' && g.pkiFingerprints?.caSHA256).toMatch(/^[0-9a-f]{64}$/);
    });

    it('a CA that status.pki records is gone: held, none is made', () => {
      const found = secrets();
      const recorded = guard(cluster(), { pki: { specs: specs(), found, unlabelled: [] } });
      const pki = recorded.kind === 'proceed' ? recorded.pkiFingerprints : undefined;
      found.delete(names.secrets.ca);
      expect(verdict(guard(cluster({}, { pki }), { pki: { specs: specs(), found, unlabelled: [] } }))).toBe(
        `hold PKIMissing (${BLOCKED_RECHECK_MS} ms)`,
      );
    });

    it('a PKI hold is reported before a kubelet hold: it stops every pass, not only the upgrade', () => {
      const found = secrets();
      const recorded = guard(cluster(), { pki: { specs: specs(), found, unlabelled: [] } });
      const pki = recorded.kind === 'proceed' ? recorded.pkiFingerprints : undefined;
      const upgrade = minorUpgrade();
      const held = { ...upgrade, status: { ...upgrade.status, pki } };
      const oldKubelet = { readable: true as const, nodes: [{ node: 'w-1', kubeletVersion: 'v1.32.0' }] };
      expect(
        verdict(guard(held, { kubelets: oldKubelet, pki: { specs: specs(), found, unlabelled: [] } })),
      ).toBe(`hold KubeletVersionSkew (${KUBELET_SKEW_RECHECK_MS} ms)`);
      found.delete(names.secrets.ca);
      expect(
        verdict(guard(held, { kubelets: oldKubelet, pki: { specs: specs(), found, unlabelled: [] } })),
      ).toBe(`hold PKIMissing (${BLOCKED_RECHECK_MS} ms)`);
    });

    it('labelled for this Cluster and controlled by nothing (a restore): adopted first', () => {
      const found = secrets();
      const ca = found.get(names.secrets.ca);
      if (!ca) throw new Error('no CA');
      found.set(names.secrets.ca, withOwners(ca, { ownerReferences: [] }));
      expect(verdict(guard(cluster(), { pki: { specs: specs(), found, unlabelled: [] } }))).toBe(
        `adopt ${names.secrets.ca}`,
      );
    });
  });
});

describe('heldStatus', () => {
  it('Degraded and not Progressing with the reason; the rest as it was', () => {
    const status = heldStatus({ observedGeneration: 3 }, 4, { reason: 'PKIMissing', message: 'gone' }, at);
    expect(status.phase).toBe('Degraded');
    expect(status.observedGeneration).toBe(3);
    expect(
      status.conditions?.map((c) => `${c.type}=${c.status} ${c.reason} g${c.observedGeneration}`),
    ).toEqual(['Degraded=True PKIMissing g4', 'Progressing=False PKIMissing g4']);
  });
});
