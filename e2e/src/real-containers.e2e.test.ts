/**
 * A biz-cluster's control plane as real containers on real meta-cluster
 * nodes: a meta-cluster whose Nodes are hosts of the host rig (each its own
 * network namespace, containerd and kubelet, joined by TLS bootstrap), with
 * CoreDNS and kube-proxy rendered by the operator's add-on renderers; our
 * images (the control plane's, both operators') packed by our packer and
 * imported into every host's containerd; etcd's claim bound to a local volume
 * on one host. `helm install` of the kube-on-kube-operator chart runs the
 * operator as containers of its image. A Cluster becomes Available with every
 * control-plane pod a containerd container on a rig host, and its apiserver
 * answers through its meta-cluster Service's ClusterIP (kube-proxy); its
 * node-operator runs from its image too and leads in the biz-cluster. The
 * Cluster is created at the previous Kubernetes version (v1.35.4, images packed
 * from that build) and upgraded to the pinned one while a client in a host's
 * namespace keeps talking to it through that ClusterIP. Then it is moved to an
 * apiserver image whose binary runs and never becomes ready
 * (support/never-ready): the upgrade misses its progress deadline and is rolled
 * back, the client served throughout. Then the Cluster gets hosts of its own:
 * two hosts of a second rig, booted with nothing but the node-agent, join it
 * by TLS bootstrap through the apiserver Service's NodePort on the meta hosts
 * (the workers' rig reaches only those addresses), and a canary kubelet
 * rollout moves them to the next minor. Deleting the Cluster leaves none of
 * its pods or containers; `helm uninstall` and the teardown leave nothing
 * behind.
 *
 * The meta-cluster is @kok/container-meta's (shared with the demo and the
 * `cluster-up --real` benchmark): no node-agent there, a stand-in installs
 * what the agent would from the same catalog.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { V1Pod, CoreV1Api } from '@kubernetes/client-node';
import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { etcdImage, kubeImage, nodePoolType, pairedEtcdVersion } from '@kok/api';
import type { ApiServerProxy, MachineSnapshot, RealHostPool } from '@kok/host-rig';
import {
  HostRig,
  kubeconfigThroughProxy,
  leftovers,
  realHostSupport,
  snapshotMachine,
  startApiServerProxy,
  startRealHostPool,
} from '@kok/host-rig';
import { CONTROL_PLANE_BINARIES } from '@kok/images';
import { builtinTypes, KubeClient, PatchType } from '@kok/reconcile';
import { eventually, pinnedVersions } from '@kok/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageToImport, ServiceAdmin } from '@kok/container-meta';
import { pinnedImageInputs, RealContainerMeta } from '@kok/container-meta';
import type { ServiceClientTarget } from './support/service-client-process.ts';
import { startServiceClient, type ServiceClient } from './support/service-client-process.ts';
import { nodeAgentCommand } from '../../apps/node-agent/bundle.ts';

const HOSTS = ['cp-0', 'cp-1'] as const;
/** The biz-cluster's own hosts: a rig of their own, booted with nothing but the node-agent. */
const WORKERS = ['w-0', 'w-1'] as const;
const POOL = 'workers';
const NAMESPACE = 'tenants';
const CLUSTER = 'real';
/** The kube-on-kube-operator chart's release. */
const RELEASE = 'kok';
const RELEASE_NAMESPACE = 'kok-system';
const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
const KUBERNETES_COMPONENTS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
/** The Cluster is created at the previous version (tools/versions.env CONTROL_PLANE_PREVIOUS_VERSIONS)… */
const FROM = 'v1.35.4';
/** …and upgraded to the pinned one. */
const TO = pinnedVersions().kubernetes;
/** An apiserver release whose binary starts and never becomes ready (support/never-ready, packed as its image). */
const NEVER_READY = `${TO.replace(/\.(\d+)$/, (_, patch: string) => `.${Number(patch) + 1}`)}-never-ready`;
/** The upgrade to it is given this long before it is rolled back (the operator's default is 10 minutes). */
const PROGRESS_DEADLINE_SECONDS = 20;
/** The Cluster annotation that sets it, as a user would. */
const PROGRESS_DEADLINE_ANNOTATION = 'clusters.kok.dev/progress-deadline-seconds';

const support = realHostSupport();
const runsHere = support.supported || process.env.CI === 'true';

let meta: RealContainerMeta;
let core: CoreV1Api;
let machineBefore: MachineSnapshot | undefined;
/** The biz apiserver as a client in a host's namespace reaches it: its Service's ClusterIP, and its admin. */
let serviceTarget: Omit<ServiceClientTarget, 'name' | 'pauseMs' | 'retryAfterMs'> | undefined;
let client: ServiceClient | undefined;
/** The biz admin's kubeconfig that dials that ClusterIP. */
let bizKubeconfig = '';
/** The workers' rig; they reach the biz apiserver through `proxy` on its gateway. */
let workers: HostRig | undefined;
let proxy: ApiServerProxy | undefined;
let workerPool: RealHostPool | undefined;
let biz: KubeClient | undefined;
const began = Date.now();

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

/** Builds support/never-ready as `kube-apiserver` in `dir` (static, stdlib only: a second or two); returns `dir`. */
function buildNeverReady(dir: string): string {
  execFileSync('go', ['build', '-trimpath', '-o', join(dir, 'kube-apiserver'), '.'], {
    cwd: join(dirname(fileURLToPath(import.meta.url)), 'support/never-ready'),
    env: { ...process.env, CGO_ENABLED: '0' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return dir;
}

const diagnostics = () => meta.diagnostics(NAMESPACE);
const runningContainers = (name: string) => meta.runningContainers(name);
const operatorReference = () => meta.references.get('kube-on-kube-operator') as string;
const nodeOperatorReference = () => meta.references.get('node-operator') as string;

const clusterType = {
  group: 'clusters.kok.dev',
  version: 'v1alpha1',
  namespace: NAMESPACE,
  plural: 'clusters',
};

interface ClusterView {
  status?: {
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    kubeconfigSecretRef?: { name: string; key: string };
    version?: { current?: string; desired?: string };
    lastOperation?: { type: string; state: string };
    components?: Record<string, { replicas?: number; ready?: number; version?: string } | undefined>;
  };
}

const clusters = () => meta.cluster.controlPlane.kubeConfig.makeApiClient(CustomObjectsApi);
const view = async () =>
  (await clusters().getNamespacedCustomObject({ ...clusterType, name: CLUSTER })) as ClusterView;
const isAvailable = (status: ClusterView['status']) =>
  status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True') ?? false;

/** The image a component runs at Kubernetes `version` (etcd's: the one paired with it, the same for both). */
const imageAt = (component: (typeof COMPONENTS)[number], version: string) =>
  component === 'etcd' ? etcdImage(pairedEtcdVersion(version) as string) : kubeImage(component, version);

/** The Ready (and not terminating) pods of one control-plane component. */
async function componentPods(component: string): Promise<V1Pod[]> {
  const pods = await core.listNamespacedPod({
    namespace: NAMESPACE,
    labelSelector: `clusters.kok.dev/component=${component}`,
  });
  return pods.items.filter((pod) => isReady(pod) && !pod.metadata?.deletionTimestamp);
}

const isReady = (pod: V1Pod) =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

beforeAll(async () => {
  if (!runsHere) return;
  machineBefore = await snapshotMachine();
  const inputs = pinnedImageInputs();
  const neverReadyDir = mkdtempSync(join(tmpdir(), 'kok-never-ready-'));
  // The previous version's build sits beside the pinned one, in a directory named after its version.
  const previousDir = join(dirname(inputs.binariesDir), FROM);
  if (basename(inputs.binariesDir) !== TO || !existsSync(join(previousDir, 'kube-apiserver')))
    throw new Error(`no ${FROM} build beside ${inputs.binariesDir}: run tools/build-binaries.sh`);
  const images: ImageToImport[] = [
    ...CONTROL_PLANE_BINARIES.map((name) => ({ name, inputs })),
    // etcd is one image for both: both minors pair the same etcd (asserted by the upgrade scenario).
    ...KUBERNETES_COMPONENTS.map((name) => ({
      name,
      inputs: { ...inputs, binariesDir: previousDir, kubernetesVersion: FROM },
    })),
    // The release the rollback scenario moves to: an apiserver image whose binary never becomes ready.
    {
      name: 'kube-apiserver',
      inputs: {
        ...inputs,
        binariesDir: buildNeverReady(neverReadyDir),
        kubernetesVersion: NEVER_READY,
      },
    },
    // The operators' images (Node.js 24 and the app): the chart's and what the operator's Deployment names.
    { name: 'kube-on-kube-operator', inputs },
    { name: 'node-operator', inputs },
  ];
  meta = await RealContainerMeta.start(images).finally(() =>
    rmSync(neverReadyDir, { recursive: true, force: true }),
  );
  core = meta.core;
  workers = await HostRig.create({
    agentCommand: await nodeAgentCommand(),
    agentArgs: ['--http-port', '0', '--resync-seconds', '30'],
  });
}, 300_000);

/** The workers, their pool's catalog server and the proxy they dial the apiserver through. */
async function stopWorkers(): Promise<void> {
  biz?.close();
  await workerPool?.fleet.close();
  await proxy?.close();
  await workers?.destroy();
}

afterAll(async () => {
  await client?.stop().catch(() => undefined);
  await stopWorkers().catch(() => undefined);
  await meta?.stop();
}, 120_000);

describe.runIf(runsHere)('a control plane as real containers on real hosts', () => {
  it('two hosts join the meta-cluster with the control-plane images imported', async () => {
    const since = Date.now();
    await meta.joinHosts(HOSTS);
    console.log(`[real-containers] ${HOSTS.length} hosts Ready in ${seconds(since)} s`);
    for (const name of HOSTS) {
      const images = meta.ctr(name, 'images', 'ls', '-q');
      for (const binary of CONTROL_PLANE_BINARIES) expect(images).toContain(`registry.k8s.io/${binary}:`);
      for (const binary of KUBERNETES_COMPONENTS)
        for (const version of [FROM, TO]) expect(images).toContain(`registry.k8s.io/${binary}:${version}`);
      expect(images).toContain(imageAt('kube-apiserver', NEVER_READY));
      expect(images).toContain(nodeOperatorReference());
      expect(images).toContain(operatorReference());
    }
  });

  it('CoreDNS and kube-proxy of the operator’s renderers serve the meta-cluster', async () => {
    const since = Date.now();
    await meta.deployAddons(HOSTS.length);
    console.log(`[real-containers] kube-proxy and CoreDNS Ready in ${seconds(since)} s`);
  });

  it('helm install of the kube-on-kube-operator chart runs the operator from our image as real containers', async () => {
    const since = Date.now();
    await meta.installOperatorChart({
      namespace: NAMESPACE,
      etcdVolumeHost: HOSTS[1],
      release: RELEASE,
      releaseNamespace: RELEASE_NAMESPACE,
    });
    const pods = (
      await core.listNamespacedPod({
        namespace: RELEASE_NAMESPACE,
        labelSelector: `app.kubernetes.io/instance=${RELEASE}`,
      })
    ).items.filter(isReady);
    // The chart's two replicas, one on each host (its preferred anti-affinity), each a containerd container.
    expect(pods).toHaveLength(2);
    expect(new Set(pods.map((pod) => pod.spec?.nodeName))).toEqual(new Set(HOSTS));
    for (const pod of pods) {
      const id = (pod.status?.containerStatuses?.[0]?.containerID ?? '').replace('containerd://', '');
      expect(runningContainers(pod.spec?.nodeName as (typeof HOSTS)[number]).get(id)).toBe(
        operatorReference(),
      );
    }
    console.log(`[real-containers] the operator chart installed, 2 replicas Ready in ${seconds(since)} s`);
  });

  it(`a Cluster at ${FROM} becomes Available with every control-plane pod a containerd container on a rig host`, async () => {
    const created = Date.now();
    await clusters().createNamespacedCustomObject({
      ...clusterType,
      body: {
        apiVersion: 'clusters.kok.dev/v1alpha1',
        kind: 'Cluster',
        metadata: { name: CLUSTER, namespace: NAMESPACE },
        spec: {
          // The previous version: the upgrade scenario moves it to the pinned one.
          version: FROM,
          etcd: { replicas: 1, storage: { size: '1Gi', storageClassName: 'local' } },
          controlPlane: {
            // The workers' rig reaches the meta hosts' addresses only: the NodePort is their way in.
            apiServer: { replicas: 1, service: { type: 'NodePort' } },
            controllerManager: { replicas: 1 },
            scheduler: { replicas: 1 },
          },
          nodeOperator: { enabled: false },
          addons: { coreDNS: { enabled: false }, kubeProxy: { enabled: false } },
          // The address the workers dial (the proxy on their rig's gateway), in the serving certificate.
          certSANs: [(workers as HostRig).gateway],
        },
      },
    });
    let conditions = '';
    const available = await eventually(
      `Cluster ${CLUSTER} Available`,
      async () => {
        const status = (await view()).status;
        conditions = JSON.stringify(status?.conditions ?? [], null, 1);
        return isAvailable(status) ? status : undefined;
      },
      240_000,
      {
        intervalMs: 500,
        context: () => `${conditions}\n${diagnostics()}`,
      },
    );
    console.log(`[real-containers] Cluster Available at ${FROM} ${seconds(created)} s after it was created`);
    expect(available.version?.current).toBe(FROM);

    const hostContainers = new Map(HOSTS.map((name) => [name, runningContainers(name)]));
    for (const component of COMPONENTS) {
      const pods = await componentPods(component);
      expect(pods, component).toHaveLength(1);
      const pod = pods[0] as V1Pod;
      const node = pod.spec?.nodeName ?? '';
      expect(HOSTS as readonly string[], component).toContain(node);
      // etcd where its local volume is.
      if (component === 'etcd') expect(node).toBe(HOSTS[1]);
      const id = pod.status?.containerStatuses?.[0]?.containerID ?? '';
      expect(id, component).toMatch(/^containerd:\/\//);
      // containerd runs it from the previous version's image (etcd's is the one both versions pair).
      const image = hostContainers.get(node as (typeof HOSTS)[number])?.get(id.replace('containerd://', ''));
      expect(image, component).toBe(imageAt(component, FROM));
      expect(pod.spec?.containers[0]?.image, component).toBe(image);
    }

    // The admin, as a pod of the meta-cluster reaches the apiserver: through its Service's ClusterIP.
    const admin = await meta.serviceAdmin(NAMESPACE, CLUSTER, 'biz-admin.kubeconfig');
    expect(admin?.host).toMatch(/^10\.0\.0\./);
    const { kubeconfig, ...target } = admin as ServiceAdmin;
    // From the other host's namespace: through kube-proxy's rules there, to wherever the apiserver pod runs.
    const ready = await eventually(
      'the biz apiserver /readyz through its ClusterIP',
      () => meta.kubectlInHost(HOSTS[1], kubeconfig, 'get', '--raw', '/readyz'),
      60_000,
      { intervalMs: 500, context: diagnostics },
    );
    expect(ready.trim()).toBe('ok');
    const namespaces = meta.kubectlInHost(HOSTS[1], kubeconfig, 'get', 'ns', '-o', 'name');
    expect(namespaces).toContain('namespace/kube-system');
    serviceTarget = target;
    bizKubeconfig = kubeconfig;
  });

  it('the node-operator runs as a container of the kok image and leads in its biz-cluster', async () => {
    const since = Date.now();
    await clusters().patchNamespacedCustomObject(
      { ...clusterType, name: CLUSTER, body: { spec: { nodeOperator: { enabled: true } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    let conditions = '';
    await eventually(
      'status.components.nodeOperator 1/1 ready',
      async () => {
        const status = (await view()).status;
        conditions = JSON.stringify(status, null, 1);
        const nodeOperator = status?.components?.nodeOperator;
        return nodeOperator?.replicas === 1 && nodeOperator.ready === 1;
      },
      120_000,
      { intervalMs: 500, context: () => `${conditions}\n${diagnostics()}` },
    );
    const [pod] = await componentPods('node-operator');
    const name = pod?.metadata?.name ?? '';
    const id = (pod?.status?.containerStatuses?.[0]?.containerID ?? '').replace('containerd://', '');
    expect(pod?.spec?.containers[0]?.image).toBe(nodeOperatorReference());
    expect(runningContainers(pod?.spec?.nodeName as (typeof HOSTS)[number]).get(id)).toBe(
      nodeOperatorReference(),
    );
    // It reached its biz apiserver by the Service's name (the meta-cluster's CoreDNS) and holds its Lease there:
    // the holder is the container's hostname, its pod's name.
    const holder = await eventually(
      'the node-operator holding its Lease in the biz-cluster',
      () => {
        const identity = meta.kubectlInHost(
          HOSTS[1],
          bizKubeconfig,
          'get',
          'lease',
          'kok-node-operator',
          '-n',
          'kok-system',
          '-o',
          'jsonpath={.spec.holderIdentity}',
        );
        return identity.startsWith(`${name}_`) ? identity : undefined;
      },
      60_000,
      { intervalMs: 500, context: diagnostics },
    );
    console.log(
      `[real-containers] node-operator Ready as a container ${seconds(since)} s after it was enabled; Lease holder ${holder}`,
    );
  });

  it(`spec.version ${FROM} → ${TO} replaces every control-plane container, the apiserver first, while a client keeps talking through the ClusterIP`, async () => {
    // etcd stays: both minors pair the same release (were that to change, this scenario would have to expect etcd first).
    expect(pairedEtcdVersion(FROM)).toBe(pairedEtcdVersion(TO));
    const etcdBefore = (await componentPods('etcd')).map((pod) => pod.metadata?.uid);
    expect(etcdBefore).toHaveLength(1);

    // From the host the operator does not run on: kube-proxy's rules there pick the apiserver pod.
    const talking = startServiceClient(
      meta.cluster.rig.host(HOSTS[1]).network.namespace,
      {
        ...(serviceTarget as NonNullable<typeof serviceTarget>),
        name: 'upgrade',
        pauseMs: 200,
        // A retry only tells what failed: the assertion below wants none.
        retryAfterMs: 2_000,
      },
      join(meta.cluster.rig.dir, 'service-client.json'),
    );
    client = talking;
    const clientContext = () =>
      `client rounds (last 5): ${JSON.stringify(talking.rounds.slice(-5))}\n${diagnostics()}`;
    await eventually(
      `the client answered by the ${FROM} apiserver`,
      () => talking.rounds.some((round) => round.version === FROM),
      30_000,
      { intervalMs: 200, context: clientContext },
    );

    const since = Date.now();
    await clusters().patchNamespacedCustomObject(
      { ...clusterType, name: CLUSTER, body: { spec: { version: TO } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    let conditions = '';
    const upgraded = await eventually(
      `Cluster ${CLUSTER} Available at ${TO}`,
      async () => {
        const status = (await view()).status;
        conditions = JSON.stringify({ version: status?.version, conditions: status?.conditions }, null, 1);
        return isAvailable(status) && status?.version?.current === TO ? status : undefined;
      },
      180_000,
      { intervalMs: 500, context: () => `${conditions}\n${clientContext()}` },
    );
    const upgradeSeconds = seconds(since);
    expect(upgraded.lastOperation).toMatchObject({ type: 'Upgrade', state: 'Succeeded' });
    await eventually(
      `the client answered by the ${TO} apiserver`,
      () => talking.rounds.some((round) => round.version === TO),
      30_000,
      { intervalMs: 200, context: clientContext },
    );
    client = undefined;
    await talking.stop();

    // Every control-plane container runs the new image, as containerd and the pods see it; the old ones'
    // containers end as their pods go, which trails the Cluster's Available: an old apiserver serves out its
    // shutdown delay, then waits for its in-flight requests up to its request timeout (a minute) before it
    // exits, within its pod's 70 s grace period.
    await eventually(
      `only ${TO} control-plane containers running`,
      async () => {
        const running = new Map(HOSTS.map((name) => [name, runningContainers(name)]));
        const runningImages = [...running.values()].flatMap((containers) => [...containers.values()]);
        for (const component of COMPONENTS) {
          const pods = await componentPods(component);
          if (pods.length !== 1) return false;
          const pod = pods[0] as V1Pod;
          const id = (pod.status?.containerStatuses?.[0]?.containerID ?? '').replace('containerd://', '');
          const image = running.get(pod.spec?.nodeName as (typeof HOSTS)[number])?.get(id);
          if (image !== imageAt(component, TO) || pod.spec?.containers[0]?.image !== image) return false;
          if (component !== 'etcd' && runningImages.includes(imageAt(component, FROM))) return false;
        }
        return true;
      },
      120_000,
      { intervalMs: 500, context: diagnostics },
    );
    // etcd was not restarted: the same pod throughout.
    expect((await componentPods('etcd')).map((pod) => pod.metadata?.uid)).toEqual(etcdBefore);
    // The apiserver first: every new apiserver pod was created before any new controller-manager or scheduler.
    const createdAt = async (component: string) =>
      (await componentPods(component)).map((pod) => new Date(pod.metadata?.creationTimestamp ?? 0).getTime());
    const newestApiServer = Math.max(...(await createdAt('kube-apiserver')));
    expect(newestApiServer).toBeGreaterThanOrEqual(since - 1_000);
    for (const component of ['kube-controller-manager', 'kube-scheduler'])
      expect(Math.min(...(await createdAt(component))), component).toBeGreaterThanOrEqual(newestApiServer);

    // The client was served throughout, by both versions, and not one request failed: each old apiserver
    // kept serving while its endpoint left the Service (--shutdown-delay-duration), so no round needed its retry.
    const rounds = talking.rounds;
    expect(rounds.filter((round) => round.error !== undefined || round.retriedAfter !== undefined)).toEqual(
      [],
    );
    expect(new Set(rounds.map((round) => round.version))).toEqual(new Set([FROM, TO]));
    expect(rounds.length).toBeGreaterThan(20);
    // What it wrote is there, in the etcd both versions shared.
    const written = meta
      .kubectlInHost(HOSTS[1], bizKubeconfig, 'get', 'configmaps', '-n', 'default', '-o', 'name')
      .split('\n')
      .filter((line) => line.startsWith('configmap/upgrade-'));
    expect(written).toHaveLength(rounds.length);
    console.log(
      `[real-containers] upgrade ${FROM} → ${TO} in ${upgradeSeconds} s; the client through the ClusterIP: ` +
        `${rounds.length} rounds (GET /version + a write), none failed, none retried`,
    );
  });

  it(`an apiserver image that never becomes ready (${NEVER_READY}) is rolled back, the ${TO} apiserver serving throughout`, async () => {
    const servingBefore = (await componentPods('kube-apiserver')).map((pod) => pod.metadata?.uid);
    expect(servingBefore).toHaveLength(1);
    const talking = startServiceClient(
      meta.cluster.rig.host(HOSTS[1]).network.namespace,
      {
        ...(serviceTarget as NonNullable<typeof serviceTarget>),
        name: 'rollback',
        pauseMs: 200,
        retryAfterMs: 2_000,
      },
      join(meta.cluster.rig.dir, 'service-client-rollback.json'),
    );
    client = talking;
    const clientContext = () =>
      `client rounds (last 5): ${JSON.stringify(talking.rounds.slice(-5))}\n${diagnostics()}`;
    await eventually('the client answered', () => talking.rounds.length >= 3, 30_000, {
      intervalMs: 200,
      context: clientContext,
    });

    const since = Date.now();
    await clusters().patchNamespacedCustomObject(
      {
        ...clusterType,
        name: CLUSTER,
        body: {
          metadata: { annotations: { [PROGRESS_DEADLINE_ANNOTATION]: String(PROGRESS_DEADLINE_SECONDS) } },
          spec: { version: NEVER_READY },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    // The new apiserver really runs: a containerd container of the never-ready image, its pod never Ready.
    const brokenImage = imageAt('kube-apiserver', NEVER_READY);
    await eventually(
      `a ${NEVER_READY} apiserver container running, its pod not Ready`,
      async () => {
        const pods = (
          await core.listNamespacedPod({
            namespace: NAMESPACE,
            labelSelector: 'clusters.kok.dev/component=kube-apiserver',
          })
        ).items.filter((pod) => pod.spec?.containers[0]?.image === brokenImage);
        return pods.some((pod) => {
          const id = (pod.status?.containerStatuses?.[0]?.containerID ?? '').replace('containerd://', '');
          const node = pod.spec?.nodeName as (typeof HOSTS)[number];
          return id !== '' && !isReady(pod) && runningContainers(node).get(id) === brokenImage;
        });
      },
      60_000,
      { intervalMs: 500, context: clientContext },
    );

    let conditions = '';
    const degraded = await eventually(
      'Degraded with ProgressDeadlineExceeded',
      async () => {
        const status = (await view()).status;
        conditions = JSON.stringify({ version: status?.version, conditions: status?.conditions }, null, 1);
        return status?.conditions?.find((c) => c.type === 'Degraded')?.reason === 'ProgressDeadlineExceeded'
          ? status
          : undefined;
      },
      120_000,
      { intervalMs: 500, context: () => `${conditions}\n${clientContext()}` },
    );
    const rolledBackAfter = seconds(since);
    expect(degraded.conditions?.find((c) => c.type === 'Degraded')?.message).toMatch(
      new RegExp(
        `apiServer did not become Available at ${NEVER_READY} within ${PROGRESS_DEADLINE_SECONDS} s .*rolled back`,
      ),
    );
    expect(degraded.version?.current).toBe(TO);
    // Rolled back: no container of the broken image runs on any host, the same apiserver pod serves at TO.
    await eventually(
      `no ${NEVER_READY} container left, the ${TO} apiserver alone`,
      async () => {
        const images = HOSTS.flatMap((name) => [...runningContainers(name).values()]);
        const serving = await componentPods('kube-apiserver');
        return (
          !images.includes(brokenImage) &&
          serving.length === 1 &&
          serving[0]?.spec?.containers[0]?.image === imageAt('kube-apiserver', TO)
        );
      },
      60_000,
      { intervalMs: 500, context: clientContext },
    );
    expect((await componentPods('kube-apiserver')).map((pod) => pod.metadata?.uid)).toEqual(servingBefore);
    // The controller-manager and the scheduler were never moved: the apiserver's gate never opened.
    for (const component of ['kube-controller-manager', 'kube-scheduler'] as const)
      expect((await componentPods(component))[0]?.spec?.containers[0]?.image, component).toBe(
        imageAt(component, TO),
      );
    await eventually('a few more rounds after the rollback', () => talking.rounds.length >= 5, 30_000, {
      intervalMs: 200,
      context: clientContext,
    });
    client = undefined;
    await talking.stop();
    // The serving apiserver was never touched: not one request of the client failed.
    const rounds = talking.rounds;
    expect(rounds.filter((round) => round.error !== undefined || round.retriedAfter !== undefined)).toEqual(
      [],
    );
    expect(new Set(rounds.map((round) => round.version))).toEqual(new Set([TO]));
    console.log(
      `[real-containers] ${NEVER_READY} rolled back ${rolledBackAfter} s after it was set ` +
        `(progress deadline ${PROGRESS_DEADLINE_SECONDS} s); the client: ${rounds.length} rounds, none retried`,
    );
  });

  it(`a NodePool of ${WORKERS.length} real hosts joins the Cluster through its apiserver’s NodePort, and a canary kubelet rollout completes`, async () => {
    const rig = workers as HostRig;
    const since = Date.now();
    // The machine's way to the apiserver: the Service's NodePort on the meta hosts, which kube-proxy carries
    // to wherever the apiserver pod runs. The workers dial it on their rig's gateway.
    proxy = await startApiServerProxy({
      meta: meta.cluster.controlPlane.kubeConfig,
      namespace: NAMESPACE,
      cluster: CLUSTER,
      reach: 'node-port',
      extraAddresses: [rig.gateway],
      extraAddressPort: 6443,
    });
    const metaAddresses = HOSTS.map((name) => meta.cluster.rig.host(name).address);
    const backends = await eventually(
      'the proxy forwarding to the NodePort on both meta hosts',
      () => {
        const now = (proxy as ApiServerProxy).backends();
        return now.length === HOSTS.length ? now : undefined;
      },
      30_000,
      { intervalMs: 250 },
    );
    expect(new Set(backends.map((backend) => backend.split(':')[0]))).toEqual(new Set(metaAddresses));
    const ref = (await view()).status?.kubeconfigSecretRef;
    const secret = await core.readNamespacedSecret({ name: ref?.name ?? '', namespace: NAMESPACE });
    const bizConfig = new KubeConfig();
    bizConfig.loadFromString(
      kubeconfigThroughProxy(
        Buffer.from(secret.data?.[ref?.key ?? ''] ?? '', 'base64').toString(),
        (proxy as ApiServerProxy).url,
      ),
    );
    biz = new KubeClient(bizConfig, { fieldManager: 'kok-e2e' });
    const bizClient = biz;
    const ca = Buffer.from(bizConfig.getCurrentCluster()?.caData ?? '', 'base64').toString('utf8');
    const context = () =>
      [
        ...rig.hosts.map((host) => `--- ${host.name}:\n${host.logTail(15)}`),
        `backends: ${(proxy as ApiServerProxy).backends().join(' ')}`,
        diagnostics(),
      ].join('\n');

    workerPool = await startRealHostPool({
      rig,
      client: bizClient,
      server: (proxy as ApiServerProxy).urlOn(rig.gateway),
      certificateAuthorityPem: ca,
      pool: POOL,
      machines: WORKERS,
      clusterVersion: TO,
      rollout: {
        strategy: { rollingUpdate: { maxUnavailable: 1 } },
        waves: [{ name: 'canary', count: 1, pauseAfter: true }],
      },
    });
    const [from, to] = workerPool.kubeletVersions as [string, string];
    const nodesAt = async (version: string) =>
      (await bizClient.list(builtinTypes.node)).items.filter(
        (node) =>
          node.status?.nodeInfo?.kubeletVersion === version &&
          node.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
    await eventually(
      `NodePool ${POOL}: ${WORKERS.length} Machines Ready at kubelet ${from}`,
      async () => {
        const pool = await bizClient.get(nodePoolType, { name: POOL });
        return (
          pool.status?.readyMachines === WORKERS.length &&
          pool.status.updatedMachines === WORKERS.length &&
          (await nodesAt(from)).length === WORKERS.length
        );
      },
      300_000,
      { intervalMs: 1_000, context },
    );
    const joined = await bizClient.list(builtinTypes.node);
    expect(new Set(joined.items.map((node) => node.metadata?.name))).toEqual(new Set(WORKERS));
    for (const node of joined.items) {
      expect(node.status?.nodeInfo?.containerRuntimeVersion).toMatch(/^containerd:\/\//);
      // Each joined from its own rig address, by TLS bootstrap through the NodePort.
      expect(node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address).toBe(
        rig.host(node.metadata?.name ?? '').address,
      );
    }
    console.log(
      `[real-containers] ${WORKERS.length} worker hosts Ready at ${from} through the NodePort in ${seconds(since)} s`,
    );

    const rollout = Date.now();
    await bizClient.patch(nodePoolType, { name: POOL }, PatchType.merge, {
      spec: { template: workerPool.template(to) },
    });
    await eventually(
      `the canary at kubelet ${to} and the pool paused after its wave`,
      async () => {
        const pool = await bizClient.get(nodePoolType, { name: POOL });
        // The operator pauses the pool itself (spec.paused) at the end of a pauseAfter wave.
        return (
          pool.spec.paused === true &&
          pool.status?.updatedMachines === 1 &&
          (await nodesAt(to)).length === 1 &&
          (await nodesAt(from)).length === 1
        );
      },
      240_000,
      { intervalMs: 1_000, context },
    );
    const canaryAfter = seconds(rollout);
    await bizClient.patch(nodePoolType, { name: POOL }, PatchType.merge, { spec: { paused: false } });
    await eventually(
      `every worker at kubelet ${to}`,
      async () => {
        const pool = await bizClient.get(nodePoolType, { name: POOL });
        return (
          pool.status?.updatedMachines === WORKERS.length &&
          pool.status.readyMachines === WORKERS.length &&
          (await nodesAt(to)).length === WORKERS.length
        );
      },
      240_000,
      { intervalMs: 1_000, context },
    );
    console.log(
      `[real-containers] kubelet ${from} → ${to}: the canary in ${canaryAfter} s, every worker in ${seconds(rollout)} s`,
    );
  });

  it('deleting the Cluster stops it in reverse order, each tier’s pods gone before the next goes, and leaves no container', async () => {
    // A pod already on its way out (the rolled-back release's) is not the teardown's doing.
    const goingBefore = new Set(
      (await core.listNamespacedPod({ namespace: NAMESPACE })).items
        .filter((pod) => pod.metadata?.deletionTimestamp)
        .map((pod) => pod.metadata?.uid),
    );
    const since = Date.now();
    await clusters().deleteNamespacedCustomObject({ ...clusterType, name: CLUSTER });
    const controlPlaneImages = new Set(
      [FROM, TO, NEVER_READY].flatMap((version) =>
        COMPONENTS.filter((c) => c !== 'etcd' || version !== NEVER_READY).map((c) => imageAt(c, version)),
      ),
    );
    // Sampled while it goes: when each tier's pods were last seen, and when each first began to stop.
    const tiers = {
      'node-operator, controller-manager, scheduler': [
        'node-operator',
        'kube-controller-manager',
        'kube-scheduler',
      ],
      apiserver: ['kube-apiserver'],
      etcd: ['etcd'],
    } as const;
    type Tier = keyof typeof tiers;
    const tierOf = (pod: V1Pod) =>
      (Object.keys(tiers) as Tier[]).find((tier) =>
        (tiers[tier] as readonly string[]).includes(
          pod.metadata?.labels?.['clusters.kok.dev/component'] ?? '',
        ),
      );
    const lastSeen = new Map<Tier, number>();
    const firstStopping = new Map<Tier, number>();
    let left = '';
    await eventually(
      `Cluster ${CLUSTER} gone with its pods and containers`,
      async () => {
        const now = Date.now();
        const gone = await view().then(
          () => false,
          (error: unknown) => (error as { code?: number }).code === 404,
        );
        const pods = (await core.listNamespacedPod({ namespace: NAMESPACE })).items;
        for (const pod of pods) {
          const tier = tierOf(pod);
          if (!tier) continue;
          lastSeen.set(tier, now);
          if (
            pod.metadata?.deletionTimestamp &&
            !goingBefore.has(pod.metadata.uid) &&
            !firstStopping.has(tier)
          )
            firstStopping.set(tier, now);
        }
        const containers = HOSTS.flatMap((name) => [...runningContainers(name).values()]).filter(
          (image) => controlPlaneImages.has(image) || image === nodeOperatorReference(),
        );
        left = JSON.stringify({ cluster: !gone, pods: pods.map((pod) => pod.metadata?.name), containers });
        return gone && pods.length === 0 && containers.length === 0;
      },
      180_000,
      { intervalMs: 200, context: () => `still there: ${left}\n${diagnostics()}` },
    );
    // No tier began to stop while a pod of the tier before it (which depends on it) was still there.
    const order = Object.keys(tiers) as Tier[];
    for (const [before, after] of order.slice(0, -1).map((tier, i) => [tier, order[i + 1] as Tier] as const))
      expect(
        firstStopping.get(after) ?? Infinity,
        `${after} stopping after the last ${before} pod`,
      ).toBeGreaterThan(lastSeen.get(before) ?? 0);
    console.log(
      `[real-containers] Cluster deleted, its pods and containers gone, in ${seconds(since)} s ` +
        `(${order.map((tier) => `${tier} stopping at +${(((firstStopping.get(tier) ?? since) - since) / 1000).toFixed(1)} s`).join(', ')})`,
    );
  });

  it('teardown leaves nothing of the hosts, their routes, rules or the operator on the machine', async () => {
    // helm uninstall: the operator's containers go with its pods.
    meta.uninstallOperatorChart();
    await eventually(
      'no operator container on any host',
      () => HOSTS.every((name) => ![...runningContainers(name).values()].includes(operatorReference())),
      60_000,
      { intervalMs: 500, context: diagnostics },
    );
    // The workers go as if powered off and wiped.
    const workerRig = workers as HostRig;
    await stopWorkers();
    workers = undefined;
    const rig = meta.cluster.rig;
    const owns = (entry: string) => rig.owns(entry) || workerRig.owns(entry);
    await meta.stop();
    const after = await snapshotMachine();
    expect(leftovers(machineBefore as MachineSnapshot, after, owns)).toEqual({});
    console.log(`[real-containers] test took ${seconds(began)} s`);
  });
});
