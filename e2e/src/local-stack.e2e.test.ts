/**
 * The whole of kok on one machine, as `npm run kok` starts it: a Cluster whose
 * control plane runs as real processes (two kube-apiservers), the node API and
 * node-operator it gets, a NodePool of real hosts (real kubelets and
 * containerd installed by the node agents, joined by TLS bootstrap; stand-ins
 * only outside CI where the machine cannot run them), the add-ons it deploys
 * (a pod on one host resolves a Service name through CoreDNS and reaches its
 * pod on another through kube-proxy); then a canary kubelet rollout through
 * that node-operator and an upgrade of the Cluster to the next patch with the
 * biz apiserver answering all along, kube-proxy following it.
 *
 * The local pod runtime runs the one local build of each binary for every
 * image tag, so "v1.36.4" is the v1.36.3 build under a new tag: what the
 * upgrade proves is the order of restarts and that service never stops.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { builtinTypes, PatchType } from '@kok/reconcile';
import { clusterType, Labels, machineType, nodePoolType } from '@kok/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from './support/local-stack.ts';
import { STACK_CLUSTER, STACK_NAMESPACE, STACK_POOL, startLocalStack } from './support/local-stack.ts';
import { eventually } from '@kok/testing';

const run = promisify(execFile);
const MACHINES = 3;
// No v1.36.4 build exists here: the stack's pod runtime runs the v1.36.3 build for that tag and logs it.
// What this test proves is the order and the availability of the rolling upgrade; a change of the binary
// itself is proven by the pod runtime's real-boot upgrade test (v1.35.4 → v1.36.3).
const NEXT_PATCH = 'v1.36.4';
/** The busybox image every real host carries (libs/host-rig test images). */
const WORKLOAD_IMAGE = 'kok.dev/test/busybox:1';

let stack: LocalStack;
const workDir = mkdtempSync(join(tmpdir(), 'kok-local-stack-'));
const progress: string[] = [];

/**
 * kubectl on the biz-cluster, asynchronously: the host proxy it dials runs in
 * this process, so a synchronous child would block the very proxy it waits on.
 */
const biz = async (...args: string[]) =>
  (
    await run(join(stack.binDir, 'kubectl'), [`--kubeconfig=${stack.bizKubeconfigPath}`, ...args], {
      timeout: 30_000,
    })
  ).stdout;

const getCluster = () => stack.meta.get(clusterType, { namespace: STACK_NAMESPACE, name: STACK_CLUSTER });

async function podsOf(component: string): Promise<V1Pod[]> {
  return (
    await stack.meta.list(builtinTypes.pod, {
      namespace: STACK_NAMESPACE,
      labelSelector: `${Labels.cluster}=${STACK_CLUSTER},${Labels.clusterComponent}=${component}`,
    })
  ).items;
}

async function fleetAt(kubelet: string): Promise<boolean> {
  const nodes = (await stack.biz.list(builtinTypes.node)).items;
  return (
    nodes.length === MACHINES && nodes.every((node) => node.status?.nodeInfo?.kubeletVersion === kubelet)
  );
}

beforeAll(async () => {
  stack = await startLocalStack({
    stateDir: workDir,
    machines: MACHINES,
    apiServerReplicas: 2,
    // Real hosts wherever they can run; in CI they must (a failure, not a quiet fallback).
    hosts: process.env.CI ? 'real' : 'auto',
    // The pod runtime's path: the upgrade below moves between tags of one build (real containers: kok-up-containers).
    controlPlane: 'processes',
    onProgress: (line) => progress.push(line),
  });
}, 420_000);

afterAll(async () => {
  await stack?.stop();
  if (!process.env.KOK_E2E_KEEP) rmSync(workDir, { recursive: true, force: true });
  else console.log(`[kok-e2e] kept ${workDir}\n${progress.join('\n')}`);
});

describe('the local stack: a Cluster booted for real, its node tier, rollouts on both levels', () => {
  it('boots the Cluster as real processes: its apiserver answers /readyz and kubectl', async () => {
    // Generous: two real apiservers and everything else share a small machine.
    await eventually(
      'the biz apiserver /readyz through the host proxy',
      async () => (await biz('get', '--raw', '/readyz')) === 'ok',
      60_000,
    );
    const namespaces = await biz('get', 'ns', '-o', 'name');
    expect(namespaces).toContain('namespace/default');
    expect(namespaces).toContain('namespace/kube-system');
    const apiServers = await podsOf('kube-apiserver');
    expect(apiServers).toHaveLength(2);
    for (const pod of apiServers) expect(pod.status?.podIP).toMatch(/^127\./);
    // Its etcd's first snapshot, taken once etcd answered, is a file in the stack's snapshot directory.
    const snapshot = await eventually(
      'the first etcd snapshot',
      async () => (await getCluster()).status?.etcd?.lastSnapshot,
      60_000,
    );
    // `kok up` keeps the stack's own state in <state dir>/stack.
    expect(statSync(join(workDir, 'stack', 'etcd-snapshots', snapshot.file)).size).toBe(snapshot.sizeBytes);
  });

  it('installs the node API into the biz-cluster and runs the node-operator that reconciles its pool', async () => {
    for (const crd of ['machines', 'nodepools', 'components', 'remediationpolicies'])
      expect(
        await biz(
          'get',
          'crd',
          `${crd}.nodes.kok.dev`,
          '-o',
          'jsonpath={.status.conditions[?(@.type=="Established")].status}',
        ),
      ).toBe('True');
    // What confines each node agent to its own Machine.
    expect(await biz('get', 'validatingadmissionpolicy', 'kok-node-agent-own-machine', '-o', 'name')).toBe(
      'validatingadmissionpolicy.admissionregistration.k8s.io/kok-node-agent-own-machine\n',
    );
    expect(await biz('get', 'validatingadmissionpolicybinding', '-o', 'name')).toContain(
      'kok-node-agent-own-machine',
    );
    expect(await biz('get', 'clusterrole', 'kok:node-agent', '-o', 'name')).toContain('kok:node-agent');
    const cluster = (await getCluster()) as ClusterWithNodeTier;
    expect(cluster.metadata?.annotations?.['clusters.kok.dev/node-api-hash']).toMatch(/^[0-9a-f]{16}$/);
    expect(cluster.status?.components?.nodeOperator).toMatchObject({ ready: 1, version: '0.1.0' });
    // The node-operator runs from the meta-cluster and leads in the biz-cluster.
    expect(
      await biz(
        'get',
        'lease',
        '-n',
        'kok-system',
        'kok-node-operator',
        '-o',
        'jsonpath={.spec.holderIdentity}',
      ),
    ).not.toBe('');
    const [operatorPod] = await podsOf('node-operator');
    expect(operatorPod?.status?.podIP).toMatch(/^127\./);
    expect(operatorPod?.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    // The only node-operator is the one the Cluster got: the pool's status and the machines' nodeRefs are its work.
    const pool = await stack.biz.get(nodePoolType, { name: STACK_POOL });
    expect(pool.status?.readyMachines).toBe(MACHINES);
    for (const machine of (await stack.biz.list(machineType)).items)
      expect(machine.status?.nodeRef?.name).toBe(machine.metadata?.name);
    expect(await fleetAt(stack.hosts.kubeletVersions[0] as string)).toBe(true);
    if (stack.hosts.kind === 'real')
      // Real kubelets over real containerd, each Node joined by TLS bootstrap into the Cluster the operator booted.
      for (const node of (await stack.biz.list(builtinTypes.node)).items) {
        expect(node.status?.nodeInfo?.containerRuntimeVersion).toMatch(/^containerd:\/\/2\./);
        expect(node.metadata?.annotations?.['kwok.x-k8s.io/node']).toBeUndefined();
      }
    // Each agent runs with a certificate of its own, asked for with a bootstrap token and approved by that operator.
    const csrs = JSON.parse(await biz('get', 'csr', '-l', 'nodes.kok.dev/machine', '-o', 'json')) as {
      items: {
        metadata: { labels: Record<string, string> };
        status?: { conditions?: { reason?: string }[] };
      }[];
    };
    const approved = csrs.items
      .filter((c) => c.status?.conditions?.some((x) => x.reason === 'KokNodeAgentMachineMatched'))
      .map((c) => c.metadata.labels['nodes.kok.dev/machine']);
    expect(new Set(approved)).toEqual(new Set(stack.machines));
  });

  it('runs the add-ons the operator deployed: a Service name resolves from a pod through CoreDNS, and kube-proxy carries the request', async () => {
    const cluster = await eventually(
      'AddonsReady written',
      async () => {
        const c = (await getCluster()) as ClusterWithAddons;
        const ready = c.status?.conditions?.find((x) => x.type === 'AddonsReady');
        return ready && (ready.status === 'True' || stack.hosts.kind === 'stand-in') ? c : undefined;
      },
      180_000,
    );
    if (stack.hosts.kind === 'stand-in') {
      // Stand-in hosts run no pods for real, and the stack names no address they reach the apiserver at.
      expect(cluster.status?.conditions?.find((x) => x.type === 'AddonsReady')?.message).toMatch(
        /kubeProxy not deployed/,
      );
      return;
    }
    expect(cluster.status?.addons).toEqual({
      coreDNS: { replicas: 2, ready: 2, version: 'v1.13.1' },
      kubeProxy: { replicas: MACHINES, ready: MACHINES, version: 'v1.36.3' },
    });
    // The `kubernetes` Service points where the hosts reach the apiserver: the proxy on the rig's gateway.
    const endpoints = await biz(
      'get',
      'endpointslices',
      '-n',
      'default',
      '-l',
      'kubernetes.io/service-name=kubernetes',
      '-o',
      'jsonpath={.items[0].endpoints[0].addresses[0]}',
    );
    expect(endpoints).toMatch(/^10\.213\.\d+\.1$/);

    // A web server on one host and a client on another: the name goes through CoreDNS (on whichever hosts it
    // runs), the connection through kube-proxy's rules on the client's host and the route to the server's host.
    const nodes = (await stack.biz.list(builtinTypes.node)).items.map((n) => n.metadata?.name ?? '');
    const [serverNode, clientNode] = [nodes[0] as string, nodes[nodes.length - 1] as string];
    const pod = (
      name: string,
      nodeName: string,
      script: string,
      restartPolicy: 'Never' | 'Always',
    ): V1Pod => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default', labels: { app: name } },
      spec: {
        nodeName,
        restartPolicy,
        containers: [
          {
            name,
            image: WORKLOAD_IMAGE,
            imagePullPolicy: 'Never',
            command: ['/bin/busybox', 'sh', '-c', script],
          },
        ],
      },
    });
    await stack.biz.create(
      builtinTypes.pod,
      pod(
        'web',
        serverNode,
        'mkdir -p /tmp/www && echo served-by-web > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www',
        'Always',
      ),
    );
    await stack.biz.create(builtinTypes.service, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    const clusterIP = await eventually(
      'the web Service',
      async () =>
        (await stack.biz.get(builtinTypes.service, { namespace: 'default', name: 'web' })).spec?.clusterIP,
    );
    await stack.biz.create(
      builtinTypes.pod,
      pod(
        'dns-client',
        clientNode,
        // Retried a little (the Service's rules reach every host's kube-proxy within a second or two); each try
        // bounded by `timeout` (busybox's own `wget -T` crashes); what the last try printed is the pod's message.
        'for i in 1 2 3 4 5 6 7 8 9 10; do ' +
          'out=$( (busybox nslookup web.default.svc.cluster.local && ' +
          `busybox timeout 3 busybox wget -q -O - http://${clusterIP}/) 2>&1 ) && break; busybox sleep 2; done; ` +
          'echo "$out" > /dev/termination-log; echo "$out" | busybox grep -q served-by-web',
        'Never',
      ),
    );
    const done = await eventually(
      'the client pod done',
      async () => {
        const p = await stack.biz.get(builtinTypes.pod, { namespace: 'default', name: 'dns-client' });
        return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' ? p : undefined;
      },
      120_000,
    );
    const logs = done.status?.containerStatuses?.[0]?.state?.terminated?.message ?? '';
    expect(done.status?.phase, logs).toBe('Succeeded');
    // busybox nslookup: the server it asked (kube-dns), then the name's address (the Service's).
    expect(logs).toMatch(/Server:\s+10\.96\.0\.10/);
    expect(logs).toMatch(
      new RegExp(
        `Name:\\s+web\\.default\\.svc\\.cluster\\.local\\s+Address:\\s+${clusterIP.replaceAll('.', '\\.')}`,
      ),
    );
    expect(logs).toContain('served-by-web');
    for (const name of ['web', 'dns-client'])
      await stack.biz.delete(builtinTypes.pod, { namespace: 'default', name });
    await stack.biz.delete(builtinTypes.service, { namespace: 'default', name: 'web' });
  });

  it('rolls a kubelet out as a canary that pauses, then to every machine once resumed', async () => {
    const next = stack.hosts.kubeletVersions[1] as string;
    await stack.biz.patch(nodePoolType, { name: STACK_POOL }, PatchType.merge, {
      spec: { template: stack.hosts.template(next) },
    });
    await eventually(
      'the canary at the new kubelet and the pool paused after its wave',
      async () => {
        const nodes = (await stack.biz.list(builtinTypes.node)).items;
        const upgraded = nodes.filter((n) => n.status?.nodeInfo?.kubeletVersion === next);
        // The operator pauses the pool itself (spec.paused) at the end of a pauseAfter wave.
        const pool = await stack.biz.get(nodePoolType, { name: STACK_POOL });
        return upgraded.length === 1 && pool.spec.paused === true && pool.status?.updatedMachines === 1;
      },
      180_000,
    );
    await stack.biz.patch(nodePoolType, { name: STACK_POOL }, PatchType.merge, { spec: { paused: false } });
    await eventually(`every Node at ${next}`, () => fleetAt(next), 240_000);
  });

  it('upgrades the Cluster to the next patch in order while the biz apiserver keeps answering requests', async () => {
    const before = new Map(
      (await podsOf('kube-apiserver')).map((pod) => [pod.metadata?.name, pod.status?.podIP]),
    );
    const answers = { ok: 0, failed: [] as string[] };
    let polling = true;
    const poller = (async () => {
      while (polling) {
        try {
          // A real request, not /readyz: a replica that is shutting down still serves but is no longer ready.
          const { stdout } = await run(join(stack.binDir, 'kubectl'), [
            `--kubeconfig=${stack.bizKubeconfigPath}`,
            ...['get', 'namespace', 'default', '-o', 'name', '--request-timeout=10s'],
          ]);
          if (stdout.trim() === 'namespace/default') answers.ok++;
          else answers.failed.push(`${new Date().toISOString()} ${stdout}`);
        } catch (error) {
          const { stderr } = error as { stderr?: string };
          answers.failed.push(`${new Date().toISOString()} ${stderr?.trim() || (error as Error).message}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    try {
      await stack.meta.patch(
        clusterType,
        { namespace: STACK_NAMESPACE, name: STACK_CLUSTER },
        PatchType.merge,
        {
          spec: { version: NEXT_PATCH },
        },
      );
      await eventually(
        `Cluster ${STACK_CLUSTER} Available at ${NEXT_PATCH}`,
        async () => {
          const cluster = await getCluster();
          return (
            cluster.status?.version?.current === NEXT_PATCH &&
            cluster.status.conditions?.some((c) => c.type === 'Available' && c.status === 'True')
          );
        },
        300_000,
      );
    } finally {
      polling = false;
      await poller;
    }

    // Every apiserver was replaced: new pods at the new tag; the old ones are gone or still terminating
    // (an apiserver drains for up to a minute after SIGTERM, inside its grace period).
    const all = await podsOf('kube-apiserver');
    const after = all.filter((pod) => !pod.metadata?.deletionTimestamp);
    expect(after).toHaveLength(2);
    expect(
      all.filter((pod) => before.has(pod.metadata?.name)).every((pod) => pod.metadata?.deletionTimestamp),
    ).toBe(true);
    for (const pod of after) {
      expect(before.has(pod.metadata?.name)).toBe(false);
      expect(pod.spec?.containers[0]?.image).toMatch(new RegExp(`:${NEXT_PATCH}$`));
    }
    // In order: the apiserver gate completed before the controller-manager's and the scheduler's started.
    const gates = new Map(
      ((await getCluster()) as { status?: { gates?: GateRecord[] } }).status?.gates?.map((g) => [
        g.name,
        g,
      ]) ?? [],
    );
    const at = (name: string, field: 'startedAt' | 'completedAt') =>
      Date.parse(gates.get(name)?.[field] ?? '');
    expect(at('APIServerAvailable', 'completedAt')).toBeLessThanOrEqual(
      at('ControllerManagerAvailable', 'startedAt'),
    );
    expect(at('APIServerAvailable', 'completedAt')).toBeLessThanOrEqual(
      at('SchedulerAvailable', 'startedAt'),
    );
    expect(at('EtcdAvailable', 'completedAt')).toBeLessThanOrEqual(at('APIServerAvailable', 'startedAt'));
    // The biz apiserver answered every poll while its replicas restarted one by one.
    expect(answers.failed).toEqual([]);
    expect(answers.ok).toBeGreaterThan(10);
    if (stack.hosts.kind === 'real') {
      // Then the add-ons: kube-proxy rolled to the new version on every host (the hosts carry the build under its tag).
      const addons = await eventually(
        `kube-proxy at ${NEXT_PATCH} on every host`,
        async () => {
          const c = (await getCluster()) as ClusterWithAddons;
          return c.status?.addons?.kubeProxy?.version === NEXT_PATCH ? c : undefined;
        },
        120_000,
      );
      expect(addons.status?.addons?.kubeProxy).toEqual({
        replicas: MACHINES,
        ready: MACHINES,
        version: NEXT_PATCH,
      });
    }
  });
});

interface GateRecord {
  name: string;
  startedAt?: string;
  completedAt?: string;
}

interface ClusterWithAddons {
  status?: {
    conditions?: { type: string; status: string; message?: string }[];
    addons?: Record<string, { replicas?: number; ready?: number; version?: string }>;
  };
}

interface ClusterWithNodeTier {
  metadata?: { annotations?: Record<string, string> };
  status?: { components?: { nodeOperator?: { ready?: number; version?: string } } };
}
