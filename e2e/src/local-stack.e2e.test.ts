/**
 * The whole of kok on one machine, as `npm run kok` starts it: a Cluster whose
 * control plane runs as real processes (two kube-apiservers), the node API and
 * node-operator it gets, a NodePool of real hosts (real kubelets and
 * containerd installed by the node agents, joined by TLS bootstrap; stand-ins
 * only outside CI where the machine cannot run them); then a canary kubelet
 * rollout through that node-operator and an upgrade of the Cluster to the next
 * patch with the biz apiserver answering all along.
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

    // Every apiserver process was replaced: new pods on new loopback addresses, at the new tag.
    const after = await podsOf('kube-apiserver');
    expect(after).toHaveLength(2);
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
  });
});

interface GateRecord {
  name: string;
  startedAt?: string;
  completedAt?: string;
}

interface ClusterWithNodeTier {
  metadata?: { annotations?: Record<string, string> };
  status?: { components?: { nodeOperator?: { ready?: number; version?: string } } };
}
