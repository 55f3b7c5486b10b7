import type {
  KubernetesObject,
  V1Deployment,
  V1Secret,
  V1Service,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { templateHashOf } from '../template-hash.ts';
import { controlPlaneComponents, nodeTierComponents } from './bring-up-order.ts';
import type { ComponentName, RenderContext } from './component.ts';
import { etcd, etcdArgs, initialCluster } from './etcd.ts';
import { apiServer, apiServerArgs } from './kube-apiserver.ts';
import { controllerManager, controllerManagerArgs } from './kube-controller-manager.ts';
import { scheduler, schedulerArgs } from './kube-scheduler.ts';
import { services } from './services.ts';
import { OWNER, renderContext } from './render-fixtures.ts';

const flag = (args: readonly string[], name: string) =>
  args.filter((a) => a.startsWith(`--${name}=`)).map((a) => a.slice(name.length + 3));

/** `key → path` of each file a workload's projected volumes take from Secret `secret`. */
const mountedFiles = (workload: V1Deployment | V1StatefulSet | undefined, secret: string) =>
  (workload?.spec?.template.spec?.volumes ?? [])
    .flatMap((volume) => volume.projected?.sources ?? [])
    .filter((source) => source.secret?.name === secret)
    .flatMap((source) => source.secret?.items ?? [])
    .map((item) => `${item.key} → ${item.path}`);

const statefulSetOf = (objects: unknown) =>
  (objects as KubernetesObject[]).find((o) => o.kind === 'StatefulSet') as V1StatefulSet | undefined;
const joinSecretOf = (objects: unknown) => {
  const secret = (objects as KubernetesObject[]).find((o) => o.kind === 'Secret') as V1Secret | undefined;
  return Object.fromEntries(
    Object.entries(secret?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
  );
};

describe('etcd', () => {
  it.each([
    [1, 'prod-etcd-0=https://prod-etcd-0.prod-etcd.fleet.svc:2380'],
    [
      3,
      'prod-etcd-0=https://prod-etcd-0.prod-etcd.fleet.svc:2380,' +
        'prod-etcd-1=https://prod-etcd-1.prod-etcd.fleet.svc:2380,' +
        'prod-etcd-2=https://prod-etcd-2.prod-etcd.fleet.svc:2380',
    ],
  ])('bootstraps %i members: every one in the join Secret, new', async (replicas, expected) => {
    const ctx = await renderContext({ etcd: { replicas } });
    expect(initialCluster(ctx.names, replicas)).toBe(expected);
    const rendered = etcd.render(ctx);
    expect(joinSecretOf(rendered)).toEqual({ 'initial-cluster-state': 'new', 'initial-cluster': expected });
    expect(statefulSetOf(rendered)?.spec?.replicas).toBe(replicas);
    const args = etcdArgs(ctx.cluster, ctx.names);
    // Not in the args, which every member shares: from the Secret, read only by a member without data.
    expect(flag(args, 'initial-cluster')).toEqual([]);
    expect(flag(args, 'initial-cluster-state')).toEqual([]);
    expect(flag(args, 'initial-advertise-peer-urls')).toEqual([
      'https://$(POD_NAME).prod-etcd.fleet.svc:2380',
    ]);
    expect(flag(args, 'advertise-client-urls')).toEqual(['https://$(POD_NAME).prod-etcd.fleet.svc:2379']);
    expect(flag(args, 'name')).toEqual(['$(POD_NAME)']);
    expect(flag(args, 'client-cert-auth')).toEqual(['true']);
    expect(flag(args, 'peer-client-cert-auth')).toEqual(['true']);
    expect(statefulSetOf(rendered)?.spec?.template.spec?.containers[0]?.env).toEqual(
      expect.arrayContaining([
        {
          name: 'ETCD_INITIAL_CLUSTER_STATE',
          valueFrom: { secretKeyRef: { name: 'prod-etcd-join', key: 'initial-cluster-state' } },
        },
        {
          name: 'ETCD_INITIAL_CLUSTER',
          valueFrom: { secretKeyRef: { name: 'prod-etcd-join', key: 'initial-cluster', optional: true } },
        },
      ]),
    );
  });

  it('sizes the StatefulSet and writes the join Secret from the membership, the Secret first', async () => {
    const ctx = await renderContext({ etcd: { replicas: 5 } });
    const rendered = etcd.render({
      ...ctx,
      etcdMembership: { replicas: 2, join: { state: 'existing', initialCluster: 'a=https://a:2380' } },
    });
    expect(rendered?.map((o) => o.kind)).toEqual(['Secret', 'StatefulSet']);
    expect(statefulSetOf(rendered)?.spec?.replicas).toBe(2);
    expect(joinSecretOf(rendered)).toEqual({
      'initial-cluster-state': 'existing',
      'initial-cluster': 'a=https://a:2380',
    });
    const settled = etcd.render({ ...ctx, etcdMembership: { replicas: 2, join: { state: 'existing' } } });
    expect(joinSecretOf(settled)).toEqual({ 'initial-cluster-state': 'existing' });
  });

  it('keeps the pod template, and so every member, as it is when the membership or spec.etcd.replicas change', async () => {
    const podHash = async (replicas: number, membership?: RenderContext['etcdMembership']) => {
      const ctx = await renderContext({ etcd: { replicas } });
      const sts = statefulSetOf(
        etcd.render({ ...ctx, ...(membership ? { etcdMembership: membership } : {}) }),
      );
      return sts?.spec?.template;
    };
    const base = await podHash(3);
    expect(await podHash(5)).toEqual(base);
    expect(
      await podHash(5, { replicas: 4, join: { state: 'existing', initialCluster: 'x=https://x:2380' } }),
    ).toEqual(base);
  });

  it('is a parallel StatefulSet with storage per spec and the etcd image', async () => {
    const ctx = await renderContext({
      etcd: { replicas: 5, version: '3.6.16', storage: { size: '64Gi', storageClassName: 'local-nvme' } },
    });
    const sts = statefulSetOf(etcd.render(ctx));
    expect(sts?.spec?.replicas).toBe(5);
    expect(sts?.spec?.podManagementPolicy).toBe('Parallel');
    expect(sts?.spec?.serviceName).toBe('prod-etcd');
    expect(sts?.spec?.volumeClaimTemplates?.[0]?.spec).toMatchObject({
      storageClassName: 'local-nvme',
      resources: { requests: { storage: '64Gi' } },
    });
    expect(sts?.spec?.template.spec?.containers[0]?.image).toBe('registry.k8s.io/etcd:3.6.16-0');
    expect(sts?.spec?.template.spec?.containers[0]?.command).toEqual(['etcd']);
  });

  it("keeps the members' volumes when the StatefulSet is deleted or scaled down", async () => {
    const sts = statefulSetOf(etcd.render(await renderContext()));
    // Deleting the StatefulSet by hand must not take the cluster's data with it; teardown deletes the volumes.
    expect(sts?.spec?.persistentVolumeClaimRetentionPolicy).toEqual({
      whenDeleted: 'Retain',
      whenScaled: 'Retain',
    });
  });

  it('defaults to three members, 8Gi, the default StorageClass and the paired etcd version', async () => {
    const sts = statefulSetOf(etcd.render(await renderContext()));
    expect(sts?.spec?.replicas).toBe(3);
    expect(sts?.spec?.volumeClaimTemplates?.[0]?.spec?.storageClassName).toBeUndefined();
    expect(sts?.spec?.volumeClaimTemplates?.[0]?.spec?.resources?.requests?.storage).toBe('8Gi');
    expect(sts?.spec?.template.spec?.containers[0]?.image).toBe('registry.k8s.io/etcd:3.6.16-0');
  });
});

describe('kube-apiserver', () => {
  it.each([
    [1, ['https://prod-etcd-0.prod-etcd.fleet.svc:2379']],
    [3, [0, 1, 2].map((i) => `https://prod-etcd-${i}.prod-etcd.fleet.svc:2379`)],
  ])('talks to every one of %i etcd members', async (replicas, urls) => {
    const ctx = await renderContext({ etcd: { replicas } });
    expect(flag(apiServerArgs(ctx.cluster, ctx.names), 'etcd-servers')).toEqual([urls.join(',')]);
  });

  it('has kubeadm flags for etcd TLS, service CIDR, service accounts and the front proxy', async () => {
    const ctx = await renderContext({ network: { serviceCIDR: '10.100.0.0/16', dnsDomain: 'biz.local' } });
    const args = apiServerArgs(ctx.cluster, ctx.names);
    expect(flag(args, 'service-cluster-ip-range')).toEqual(['10.100.0.0/16']);
    expect(flag(args, 'service-account-issuer')).toEqual(['https://kubernetes.default.svc.biz.local']);
    expect(flag(args, 'service-account-key-file')).toEqual(['/etc/kubernetes/pki/sa.pub']);
    expect(flag(args, 'service-account-signing-key-file')).toEqual(['/etc/kubernetes/pki/sa.key']);
    expect(flag(args, 'etcd-cafile')).toEqual(['/etc/kubernetes/pki/etcd/ca.crt']);
    expect(flag(args, 'etcd-certfile')).toEqual(['/etc/kubernetes/pki/apiserver-etcd-client.crt']);
    expect(flag(args, 'requestheader-client-ca-file')).toEqual(['/etc/kubernetes/pki/front-proxy-ca.crt']);
    expect(flag(args, 'proxy-client-cert-file')).toEqual(['/etc/kubernetes/pki/front-proxy-client.crt']);
    expect(flag(args, 'client-ca-file')).toEqual(['/etc/kubernetes/pki/ca.crt']);
    expect(flag(args, 'advertise-address')).toEqual(['$(POD_IP)']);
  });

  it('accepts real kubelets: bootstrap tokens, the Node authorizer, NodeRestriction and a kubelet client of its own', async () => {
    const ctx = await renderContext();
    const args = apiServerArgs(ctx.cluster, ctx.names);
    expect(flag(args, 'enable-bootstrap-token-auth')).toEqual(['true']);
    expect(flag(args, 'authorization-mode')).toEqual(['Node,RBAC']);
    expect(flag(args, 'enable-admission-plugins')).toEqual(['NodeRestriction']);
    expect(flag(args, 'disable-admission-plugins')).toEqual([]);
    expect(flag(args, 'kubelet-client-certificate')).toEqual([
      '/etc/kubernetes/pki/apiserver-kubelet-client.crt',
    ]);
    expect(flag(args, 'kubelet-client-key')).toEqual(['/etc/kubernetes/pki/apiserver-kubelet-client.key']);
    // kubeadm's order: a host's own address first; a host name is the last resort (it seldom resolves in a pod).
    expect(flag(args, 'kubelet-preferred-address-types')).toEqual(['InternalIP,ExternalIP,Hostname']);
    const [deployment] = apiServer.render(ctx) as V1Deployment[];
    expect(mountedFiles(deployment, 'prod-apiserver-kubelet-client')).toEqual([
      'tls.crt → apiserver-kubelet-client.crt',
      'tls.key → apiserver-kubelet-client.key',
    ]);
  });

  it.each<[string, Record<string, string>, Record<string, boolean>, Record<string, string[]>]>([
    [
      'extraArgs override a default in place',
      { 'kubelet-preferred-address-types': 'InternalIP' },
      {},
      { 'kubelet-preferred-address-types': ['InternalIP'] },
    ],
    [
      'extraArgs do not change who is authorized nor turn anonymous requests off (stored before the CRD refused it)',
      { 'authorization-mode': 'AlwaysAllow', 'anonymous-auth': 'false' },
      {},
      { 'authorization-mode': ['Node,RBAC'], 'anonymous-auth': ['true'] },
    ],
    [
      'extraArgs enable more admission plugins, NodeRestriction kept among them',
      { 'enable-admission-plugins': 'AlwaysPullImages,EventRateLimit' },
      {},
      { 'enable-admission-plugins': ['NodeRestriction,AlwaysPullImages,EventRateLimit'] },
    ],
    [
      'extraArgs that name NodeRestriction already keep their order',
      { '--enable-admission-plugins': 'EventRateLimit,NodeRestriction' },
      {},
      { 'enable-admission-plugins': ['EventRateLimit,NodeRestriction'] },
    ],
    [
      'extraArgs disable admission plugins but never NodeRestriction (stored before the CRD refused it)',
      { 'disable-admission-plugins': 'PodSecurity, NodeRestriction' },
      {},
      { 'disable-admission-plugins': ['PodSecurity'], 'enable-admission-plugins': ['NodeRestriction'] },
    ],
    [
      'a disable-admission-plugins of NodeRestriction alone is dropped',
      { 'disable-admission-plugins': 'NodeRestriction' },
      {},
      { 'disable-admission-plugins': [], 'enable-admission-plugins': ['NodeRestriction'] },
    ],
    ['extraArgs add flags', { 'max-requests-inflight': '3000' }, {}, { 'max-requests-inflight': ['3000'] }],
    [
      'featureGates become one sorted flag',
      {},
      { Zeta: false, Alpha: true },
      { 'feature-gates': ['Alpha=true,Zeta=false'] },
    ],
    ['no featureGates, no flag', {}, {}, { 'feature-gates': [] }],
  ])('%s', async (_, extraArgs, featureGates, expected) => {
    const ctx = await renderContext({ controlPlane: { apiServer: { extraArgs, featureGates } } });
    const args = apiServerArgs(ctx.cluster, ctx.names);
    for (const [name, values] of Object.entries(expected)) expect(flag(args, name)).toEqual(values);
  });

  it.each<[string, Record<string, string>, string, number]>([
    // 5 s delay + 60 s drain (the default request timeout) + 5 s to exit.
    ['the operator delays shutdown 5 s', {}, '5s', 70],
    [
      'extraArgs lengthen the delay, for a load balancer that notices later',
      { 'shutdown-delay-duration': '30s' },
      '30s',
      95,
    ],
    ['extraArgs turn the delay off', { 'shutdown-delay-duration': '0s' }, '0s', 65],
    ['a fraction of a second is a whole one more', { 'shutdown-delay-duration': '1.5s' }, '1.5s', 67],
    ['a longer request timeout drains longer', { 'request-timeout': '2m' }, '5s', 130],
    [
      'watches drained for longer than the request timeout',
      { 'shutdown-delay-duration': '10s', 'shutdown-watch-termination-grace-period': '90s' },
      '10s',
      105,
    ],
    [
      'a key with the leading -- (stored before the CRD refused it)',
      { '--shutdown-delay-duration': '20s' },
      '20s',
      85,
    ],
    // The apiserver refuses the flag and never starts; the grace counts the apiserver's default, no delay.
    ['not a duration (stored before the CRD refused it)', { 'shutdown-delay-duration': '5' }, '5', 65],
  ])(
    'keeps serving after SIGTERM until its Service drops it, with time to drain: %s',
    async (_, extraArgs, delay, graceSeconds) => {
      const ctx = await renderContext({ controlPlane: { apiServer: { extraArgs } } });
      const [deployment] = apiServer.render(ctx) as V1Deployment[];
      const args = deployment?.spec?.template.spec?.containers[0]?.args ?? [];
      expect(flag(args, 'shutdown-delay-duration')).toEqual([delay]);
      expect(deployment?.spec?.template.spec?.terminationGracePeriodSeconds).toBe(graceSeconds);
    },
  );

  it('is a Deployment of the version with probes on the secure port', async () => {
    const ctx = await renderContext({ version: 'v1.36.4', controlPlane: { apiServer: { replicas: 3 } } });
    const [deployment] = apiServer.render(ctx) as V1Deployment[];
    const container = deployment?.spec?.template.spec?.containers[0];
    expect(deployment?.spec?.replicas).toBe(3);
    expect(container?.image).toBe('registry.k8s.io/kube-apiserver:v1.36.4');
    expect(container?.command).toEqual(['kube-apiserver']);
    expect(container?.startupProbe?.httpGet).toMatchObject({
      path: '/livez',
      port: 'https',
      scheme: 'HTTPS',
    });
    expect(container?.livenessProbe?.httpGet).toMatchObject({ path: '/livez', scheme: 'HTTPS' });
    expect(container?.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', scheme: 'HTTPS' });
    expect(deployment?.spec?.strategy?.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 1 });
  });
});

describe('kube-controller-manager and kube-scheduler', () => {
  it('extraArgs do not change which controllers run (stored before the CRD refused it), but may change how long kubelet certificates last', async () => {
    const ctx = await renderContext({
      controlPlane: {
        controllerManager: {
          extraArgs: { controllers: '*,-csrsigning', 'cluster-signing-duration': '168h' },
        },
      },
    });
    const args = controllerManagerArgs(ctx.cluster, ctx.names);
    expect(flag(args, 'controllers')).toEqual(['*,bootstrapsigner,tokencleaner']);
    expect(flag(args, 'cluster-signing-duration')).toEqual(['168h']);
  });

  it('controller-manager signs with the cluster CA and allocates pod CIDRs', async () => {
    const ctx = await renderContext({
      network: { podCIDR: '10.128.0.0/10' },
      controlPlane: { controllerManager: { extraArgs: { 'kube-api-qps': '300' } } },
    });
    const args = controllerManagerArgs(ctx.cluster, ctx.names);
    expect(flag(args, 'cluster-signing-cert-file')).toEqual(['/etc/kubernetes/pki/signer.crt']);
    expect(flag(args, 'cluster-signing-key-file')).toEqual(['/etc/kubernetes/pki/signer.key']);
    expect(flag(args, 'cluster-cidr')).toEqual(['10.128.0.0/10']);
    expect(flag(args, 'service-account-private-key-file')).toEqual(['/etc/kubernetes/pki/sa.key']);
    expect(flag(args, 'kubeconfig')).toEqual(['/etc/kubernetes/pki/controller-manager.conf']);
    expect(flag(args, 'leader-elect')).toEqual(['true']);
    expect(flag(args, 'kube-api-qps')).toEqual(['300']);
    const [deployment] = controllerManager.render(ctx) as V1Deployment[];
    expect(deployment?.spec?.template.spec?.containers[0]?.image).toBe(
      'registry.k8s.io/kube-controller-manager:v1.36.3',
    );
  });

  it('controller-manager runs the bootstrap-token controllers and signs kubelet certificates with the CA alone', async () => {
    const ctx = await renderContext();
    const args = controllerManagerArgs(ctx.cluster, ctx.names);
    expect(flag(args, 'controllers')).toEqual(['*,bootstrapsigner,tokencleaner']);
    // Kubelet certificates cannot be revoked: they expire after 30 days, renewed by the kubelets before.
    expect(flag(args, 'cluster-signing-duration')).toEqual(['720h']);
    const [deployment] = controllerManager.render(ctx) as V1Deployment[];
    expect(mountedFiles(deployment, 'prod-ca')).toEqual([
      'ca.crt → ca.crt',
      'tls.crt → signer.crt',
      'tls.key → signer.key',
    ]);
  });

  it('only the controller-manager mounts the cluster CA key, and read-only', async () => {
    const ctx = await renderContext();
    const holders = [...controlPlaneComponents, ...nodeTierComponents].flatMap((component) =>
      (component.render(ctx) ?? [])
        .filter((obj) => obj.kind === 'Deployment' || obj.kind === 'StatefulSet')
        .filter((obj) =>
          mountedFiles(obj as V1Deployment, 'prod-ca').some((file) => file.startsWith('tls.key ')),
        )
        .map((obj) => obj.metadata?.name),
    );
    expect(holders).toEqual(['prod-kube-controller-manager']);
    const [deployment] = controllerManager.render(ctx) as V1Deployment[];
    expect(deployment?.spec?.template.spec?.containers[0]?.volumeMounts).toEqual([
      { name: 'pki', mountPath: '/etc/kubernetes/pki', readOnly: true },
    ]);
  });

  it('scheduler reads its kubeconfig and feature gates', async () => {
    const ctx = await renderContext({
      controlPlane: { scheduler: { featureGates: { SchedulerQueueingHints: true } } },
    });
    const args = schedulerArgs(ctx.cluster);
    expect(flag(args, 'kubeconfig')).toEqual(['/etc/kubernetes/pki/scheduler.conf']);
    expect(flag(args, 'feature-gates')).toEqual(['SchedulerQueueingHints=true']);
    const [deployment] = scheduler.render(ctx) as V1Deployment[];
    expect(deployment?.spec?.replicas).toBe(2);
    expect(deployment?.spec?.strategy?.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 1 });
  });
});

describe('Services', () => {
  it.each([
    [{}, 'ClusterIP', 6443],
    [{ type: 'LoadBalancer' as const, port: 443 }, 'LoadBalancer', 443],
  ])('apiserver Service %j', async (service, type, port) => {
    const ctx = await renderContext({ controlPlane: { apiServer: { service } } });
    const rendered = services.render(ctx) as V1Service[];
    const api = rendered.find((s) => s.metadata?.name === 'prod-apiserver');
    expect(api?.spec?.type).toBe(type);
    expect(api?.spec?.ports).toEqual([{ name: 'https', port, targetPort: 'https', protocol: 'TCP' }]);
    const headless = rendered.find((s) => s.metadata?.name === 'prod-etcd');
    expect(headless?.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
  });
});

describe('every rendered object', () => {
  it('is controlled by the Cluster, labelled and carries its template hash', async () => {
    const ctx = await renderContext();
    for (const component of controlPlaneComponents) {
      for (const obj of component.render(ctx) ?? []) {
        expect(obj.metadata?.ownerReferences, `${obj.kind} ${obj.metadata?.name}`).toEqual([OWNER]);
        expect(obj.metadata?.namespace).toBe('fleet');
        expect(obj.metadata?.labels).toMatchObject({
          'clusters.kok.dev/cluster': 'prod',
          'app.kubernetes.io/managed-by': 'kube-on-kube-operator',
        });
        expect(templateHashOf(obj)).toMatch(/^[0-9a-f]{16}$/);
      }
    }
  });

  it("workloads give the images' user (65532) group read of their 0400 certificates: fsGroup", async () => {
    const ctx = await renderContext();
    for (const component of [etcd, apiServer, controllerManager, scheduler]) {
      const workload = (component.render(ctx) ?? []).find((o) =>
        ['Deployment', 'StatefulSet'].includes(o.kind ?? ''),
      ) as V1Deployment | V1StatefulSet | undefined;
      expect(workload?.spec?.template.spec?.securityContext, component.label).toEqual({ fsGroup: 65532 });
    }
  });

  it('workloads wait for the PKI: nothing is rendered without it', async () => {
    const ctx = { ...(await renderContext()), pki: undefined };
    for (const component of [etcd, apiServer, controllerManager, scheduler])
      expect(component.render(ctx)).toBeUndefined();
  });
});

describe('template hashes change only with their inputs', () => {
  const hashes = async (spec: Parameters<typeof renderContext>[0]) => {
    const ctx = await renderContext(spec);
    return Object.fromEntries(
      controlPlaneComponents.map((c) => [c.name, (c.render(ctx) ?? []).map(templateHashOf).join(',')]),
    ) as Record<ComponentName, string>;
  };

  it.each<[string, Parameters<typeof renderContext>[0], ComponentName[]]>([
    ['the same spec', {}, []],
    ['a patch version', { version: 'v1.36.4' }, ['apiServer', 'controllerManager', 'scheduler']],
    ['scheduler extraArgs', { controlPlane: { scheduler: { extraArgs: { v: '4' } } } }, ['scheduler']],
    ['apiserver featureGates', { controlPlane: { apiServer: { featureGates: { X: true } } } }, ['apiServer']],
    ['etcd version', { etcd: { version: '3.6.17' } }, ['etcd']],
    ['etcd members', { etcd: { replicas: 5 } }, ['etcd', 'apiServer']],
    ['paused', { paused: true }, []],
  ])('%s', async (_, spec, changed) => {
    const before = await hashes({});
    const after = await hashes(spec);
    const differing = controlPlaneComponents
      .map((c) => c.name)
      .filter((name) => before[name] !== after[name]);
    expect(differing).toEqual(changed);
  });
});
