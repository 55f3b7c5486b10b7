/**
 * `npm run kok` where real hosts run: the meta-cluster's Nodes are two real
 * hosts, the kube-on-kube-operator is installed by helm and runs from its
 * image, the demo Cluster's control plane (etcd, kube-apiserver,
 * controller-manager, scheduler) and its node-operator run as containerd
 * containers on those hosts, and its NodePool of real hosts (a rig of their
 * own) joins it through the apiserver Service's NodePort. Each step is printed
 * with its time; `kok down` leaves nothing of either rig on the machine.
 *
 * The pod runtime's path of the same command is local-stack.e2e.test.ts.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { V1Pod } from '@kubernetes/client-node';
import { clusterType, Labels, nodePoolType } from '@kok/api';
import type { MachineSnapshot, RigRegistration } from '@kok/host-rig';
import { leftovers, realHostSupport, rigOwns, rigsOwnedBy, snapshotMachine } from '@kok/host-rig';
import { builtinTypes } from '@kok/reconcile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from './support/local-stack.ts';
import { STACK_CLUSTER, STACK_NAMESPACE, STACK_POOL, startLocalStack } from './support/local-stack.ts';

const run = promisify(execFile);
const MACHINES = 2;
const META_HOSTS = ['meta-0', 'meta-1'];
const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'node-operator'];

const runsHere = realHostSupport().supported || process.env.CI === 'true';
const workDir = mkdtempSync(join(tmpdir(), 'kok-up-containers-'));
let stack: LocalStack | undefined;
let machineBefore: MachineSnapshot | undefined;

const isReady = (pod: V1Pod) =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const running = () => stack as LocalStack;

beforeAll(async () => {
  if (!runsHere) return;
  machineBefore = await snapshotMachine();
  stack = await startLocalStack({
    stateDir: workDir,
    machines: MACHINES,
    apiServerReplicas: 1,
    hosts: 'real',
    controlPlane: 'containers',
    timeoutMs: 540_000,
  });
}, 600_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(workDir, { recursive: true, force: true });
}, 180_000);

describe.runIf(runsHere)('kok up with real containers', () => {
  it('prints each step with its time, the Cluster’s control plane as real containers', () => {
    const steps = running().output.filter((line) => /\(\d+\.\d+s; at \d+\.\d+s\)$/.test(line));
    console.log(`[kok-up-containers] steps:\n${steps.join('\n')}`);
    expect(running().controlPlane).toBe('containers');
    for (const expected of [
      /meta-cluster Nodes meta-0, meta-1 Ready: real hosts/,
      /meta-cluster add-ons Ready/,
      /kube-on-kube-operator installed by helm/,
      /Cluster demo Available: its control plane runs as real containers on the meta-cluster's hosts/,
      /NodePool workers: 2 real hosts Ready/,
      /add-ons in the Cluster: /,
    ])
      expect(
        steps.some((line) => expected.test(line)),
        String(expected),
      ).toBe(true);
    expect(running().output.join('\n')).toMatch(/kok is up in \d+\.\d+s/);
    // Nothing fell back: no line about the pod runtime.
    expect(running().output.join('\n')).not.toMatch(/pod runtime/);
  });

  it('the meta-cluster’s Nodes are real hosts, and the operator runs from its image, installed by helm', async () => {
    const { meta } = running();
    const nodes = (await meta.list(builtinTypes.node)).items;
    expect(nodes.map((n) => n.metadata?.name).sort()).toEqual(META_HOSTS);
    for (const node of nodes)
      expect(node.status?.nodeInfo?.containerRuntimeVersion, node.metadata?.name).toMatch(/^containerd:\/\//);
    const operators = (
      await meta.list(builtinTypes.pod, {
        namespace: 'kok-system',
        labelSelector: 'app.kubernetes.io/instance=kok',
      })
    ).items.filter(isReady);
    expect(operators.length).toBeGreaterThan(0);
    for (const pod of operators) {
      expect(pod.spec?.containers[0]?.image).toMatch(/^ghcr\.io\/kok-dev\/kube-on-kube-operator:/);
      expect(pod.status?.containerStatuses?.[0]?.containerID).toMatch(/^containerd:\/\//);
    }
    const { stdout } = await run('helm', ['--kubeconfig', running().metaKubeconfigPath, 'list', '-A', '-q'], {
      env: {
        ...process.env,
        PATH: `${running().binDir}:${process.env.PATH ?? ''}`,
        HELM_CONFIG_HOME: workDir,
      },
    });
    expect(stdout.split('\n')).toContain('kok');
  });

  it('the Cluster’s control plane and node-operator run as containerd containers on those hosts', async () => {
    const { meta } = running();
    const cluster = await meta.get(clusterType, { namespace: STACK_NAMESPACE, name: STACK_CLUSTER });
    expect(cluster.status?.conditions?.find((c) => c.type === 'Available')?.status).toBe('True');
    expect(cluster.spec.controlPlane?.apiServer?.service?.type).toBe('NodePort');
    for (const component of COMPONENTS) {
      const pods = (
        await meta.list(builtinTypes.pod, {
          namespace: STACK_NAMESPACE,
          labelSelector: `${Labels.cluster}=${STACK_CLUSTER},${Labels.clusterComponent}=${component}`,
        })
      ).items.filter((pod) => isReady(pod) && !pod.metadata?.deletionTimestamp);
      expect(pods, component).toHaveLength(1);
      expect(META_HOSTS, component).toContain(pods[0]?.spec?.nodeName);
      expect(pods[0]?.status?.containerStatuses?.[0]?.containerID, component).toMatch(/^containerd:\/\//);
    }
  });

  it('the biz-cluster answers through its admin kubeconfig, its pool of real hosts Ready, its add-ons too', async () => {
    const { stdout } = await run(
      join(running().binDir, 'kubectl'),
      [`--kubeconfig=${running().bizKubeconfigPath}`, 'get', 'ns', '-o', 'name'],
      { timeout: 30_000 },
    );
    expect(stdout).toContain('namespace/kube-system');
    const { biz, meta } = running();
    const pool = await biz.get(nodePoolType, { name: STACK_POOL });
    expect(pool.status?.readyMachines).toBe(MACHINES);
    const nodes = (await biz.list(builtinTypes.node)).items;
    expect(nodes).toHaveLength(MACHINES);
    for (const node of nodes)
      expect(node.status?.nodeInfo?.containerRuntimeVersion, node.metadata?.name).toMatch(/^containerd:\/\//);
    const cluster = await meta.get(clusterType, { namespace: STACK_NAMESPACE, name: STACK_CLUSTER });
    const addons = cluster.status?.conditions?.find((c) => c.type === 'AddonsReady');
    expect(addons?.status, addons?.message).toBe('True');
  });

  it('kok down stops it all and leaves nothing of its hosts on the machine', async () => {
    const rigs: RigRegistration[] = rigsOwnedBy(running().pid);
    // The meta-cluster's and the pool's.
    expect(rigs).toHaveLength(2);
    const began = Date.now();
    await running().stop();
    stack = undefined;
    console.log(`[kok-up-containers] kok down took ${((Date.now() - began) / 1000).toFixed(1)} s`);
    const after = await snapshotMachine();
    const owned = (entry: string) => rigs.some((rig) => rigOwns(rig, entry)) || entry.includes(workDir);
    expect(leftovers(machineBefore as MachineSnapshot, after, owned)).toEqual({});
    expect(rigsOwnedBy(rigs[0]?.pid ?? 0)).toEqual([]);
  });
});
