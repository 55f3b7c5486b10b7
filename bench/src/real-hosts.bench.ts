// Real hosts (host rig: kubelet, containerd and runc in network namespaces of their own), 3 by default:
//   join     Machine created → its Node Ready, per host; baseline: that kubelet's own start → Node Ready
//   upgrade  one kubelet minor upgrade per host under a PDB-guarded Deployment, with the shipped
//            node-operator: revision handed to the host → Node Ready on the new version (drain excluded),
//            and cordon → Ready (drain included); baseline: the new kubelet's own start → Node Ready
//   idle     RSS (and its anonymous part) and CPU of node-agent, kubelet and containerd per host over a quiet window;
//            the agent runs as it ships (the bundle, with the allocator settings it re-executes itself with)
// Leaves out: image pulls (images are imported from local tarballs), real disks and network latency
// (hosts share one machine), and node-problem-detector.
//   --hosts=<n> (default 3)  --idle-seconds=<s> (default 30)
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubernetesObjectApi } from '@kubernetes/client-node';
import type { KubernetesObject, V1Node } from '@kubernetes/client-node';
import {
  ALL_RESOURCES,
  apiVersionOf,
  ComponentResource,
  customResourceDefinition,
  machineType,
  nodePoolType,
  templateRevision,
} from '@kok/api';
import type { MachineObject, NodePoolObject } from '@kok/api';
import { realHostDisruptionPolicy, realHostTemplate, startRealHostCluster } from '@kok/host-rig';
import type { RealHost } from '@kok/host-rig';
import { builtinTypes, KubeClient, PatchType, resourceType } from '@kok/reconcile';
import { eventually } from '@kok/testing';
import { parseAllDocuments } from 'yaml';
import { chartNodeOptions } from './chart-node-options.ts';
import { median, round } from './statistics.ts';
// eslint-disable-next-line @nx/enforce-module-boundaries -- agents start as the app ships them (its bundle)
import { nodeAgentCommand } from '@kok/node-agent/bundle.ts';

const flag = (name: string, fallback: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const HOSTS = Array.from({ length: flag('hosts', 3) }, (_, i) => `bench-h${i}`);
const IDLE_SECONDS = flag('idle-seconds', 30);
const POOL = 'bench';
/** @kok/testing's eventually, looking every 250 ms (the join and rollout times are read from it). */
const waitFor: typeof eventually = (what, check, timeoutMs, options = 250) =>
  eventually(what, check, timeoutMs, options);
const repo = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

const componentType = resourceType<KubernetesObject & { spec: unknown }>(
  apiVersionOf(ComponentResource),
  'Component',
  'components',
  false,
);
const crdType = resourceType<KubernetesObject>(
  'apiextensions.k8s.io/v1',
  'CustomResourceDefinition',
  'customresourcedefinitions',
  false,
);
const pdbType = resourceType<KubernetesObject & { spec: unknown }>(
  'policy/v1',
  'PodDisruptionBudget',
  'poddisruptionbudgets',
  true,
);

const isReady = (node: V1Node | undefined) =>
  node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const seconds = (ms: number) => round(ms / 1000, 2);

/** Times (epoch ms) the agent log says the host's kubelet was started, in order. */
function tailOf(path: string, lines: number): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function kubeletStarts(host: RealHost): number[] {
  return readFileSync(host.logFile, 'utf8')
    .split('\n')
    .filter((line) => line.includes('"service":"kubelet"') && line.includes('"msg":"started"'))
    .map((line) => (JSON.parse(line) as { time: number }).time);
}

const cluster = await startRealHostCluster({
  agentCommand: await nodeAgentCommand(),
  agentArgs: ['--http-port', '0'],
  setup: async (admin, controlPlane) => {
    for (const resource of ALL_RESOURCES)
      await admin.apply(crdType, customResourceDefinition(resource) as unknown as KubernetesObject);
    const objects = KubernetesObjectApi.makeApiClient(controlPlane.kubeConfig);
    for (const file of ['rbac.yaml', 'admission-policy.yaml'])
      for (const doc of parseAllDocuments(readFileSync(repo(`apps/node-agent/deploy/${file}`), 'utf8')))
        await objects.create(doc.toJS() as KubernetesObject);
  },
});
let operator: ChildProcess | undefined;
try {
  const client = new KubeClient(cluster.controlPlane.kubeConfig, {
    fieldManager: 'kok-bench',
    qps: 100,
    burst: 200,
  });
  await waitFor(
    'CRDs served',
    async () => (await client.list(machineType, { limit: 1 })) !== undefined,
    60_000,
  );
  for (const [name, spec] of Object.entries(cluster.software.components))
    await client.create(componentType, {
      apiVersion: componentType.apiVersion,
      kind: 'Component',
      metadata: { name },
      spec,
    });
  const [oldKubelet, newKubelet] = [
    cluster.versions.kubelet[0] as string,
    cluster.versions.kubelet.at(-1) as string,
  ];
  const template = (kubelet: string) =>
    realHostTemplate({
      kubelet,
      containerd: cluster.versions.containerd[0] as string,
      imageVersions: cluster.software.imageVersions,
      cgroupParent: cluster.rig.cgroupParent,
    });
  await client.create(nodePoolType, {
    apiVersion: nodePoolType.apiVersion,
    kind: 'NodePool',
    metadata: { name: POOL },
    spec: {
      template: template(oldKubelet),
      rollout: { strategy: { rollingUpdate: { maxUnavailable: 1 } } },
      disruptionPolicy: realHostDisruptionPolicy(),
    },
  } as NodePoolObject);
  const log = openSync(join(cluster.rig.dir, 'logs', 'node-operator.log'), 'a');
  operator = spawn(
    process.execPath,
    [
      repo('apps/node-operator/src/main.ts'),
      ...['--kubeconfig', cluster.controlPlane.kubeconfigPath],
      // A free port: the default 0.0.0.0:8080 may be another suite's on a shared machine.
      ...['--metrics-bind-address', '127.0.0.1:0'],
    ],
    {
      stdio: ['ignore', log, log],
      env: { ...process.env, NODE_OPTIONS: chartNodeOptions('node-operator') },
    },
  );
  closeSync(log);

  // Join: one host at a time, so each time is its own.
  const joins: number[] = [];
  const joinBaseline: number[] = [];
  for (const name of HOSTS) {
    const created = Date.now();
    await client.create(machineType, {
      apiVersion: machineType.apiVersion,
      kind: 'Machine',
      metadata: { name },
      spec: {
        pool: POOL,
        address: cluster.nextAddress(),
        revision: templateRevision(template(oldKubelet)),
        ...template(oldKubelet),
      },
    } as MachineObject);
    const host = await cluster.addHost(name);
    const ready = await waitFor(
      `${name} Ready`,
      async () => isReady(await client.get(builtinTypes.node, { name }).catch(() => undefined)) && Date.now(),
      120_000,
      {
        intervalMs: 50,
        context: () =>
          `--- ${name}'s agent and services:\n${host.logTail(40)}\n--- node-operator:\n${tailOf(join(cluster.rig.dir, 'logs', 'node-operator.log'), 15)}`,
      },
    );
    joins.push(ready - created);
    joinBaseline.push(ready - (kubeletStarts(host)[0] ?? ready));
  }

  // A workload that every drain must respect.
  const labels = { app: 'bench' };
  await client.create(pdbType, {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'bench', namespace: 'default' },
    spec: { minAvailable: HOSTS.length - 1, selector: { matchLabels: labels } },
  });
  await client.create(builtinTypes.deployment, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'bench', namespace: 'default' },
    spec: {
      replicas: HOSTS.length,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: 5,
          containers: [
            {
              name: 'sleep',
              image: 'kok.dev/test/busybox:1',
              imagePullPolicy: 'Never',
              command: ['/bin/sh', '-c', "trap 'exit 0' TERM; while :; do sleep 1; done"],
            },
          ],
        },
      },
    },
  });
  await waitFor(
    'the workload available',
    async () =>
      (await client.get(builtinTypes.deployment, { name: 'bench', namespace: 'default' })).status
        ?.availableReplicas === HOSTS.length,
    120_000,
  );

  // Upgrade: sample each host's milestones while the pool rolls.
  const target = templateRevision(template(newKubelet));
  const milestones = new Map(HOSTS.map((h) => [h, { cordoned: 0, handedOut: 0, ready: 0 }]));
  const rolloutStarted = Date.now();
  await client.patch(nodePoolType, { name: POOL }, PatchType.merge, {
    spec: { template: template(newKubelet) },
  });
  await waitFor(
    'every host Ready on the new kubelet',
    async () => {
      const now = Date.now();
      const [machines, nodes] = await Promise.all([client.list(machineType), client.list(builtinTypes.node)]);
      for (const name of HOSTS) {
        const m = milestones.get(name) as { cordoned: number; handedOut: number; ready: number };
        const node = nodes.items.find((n) => n.metadata?.name === name);
        const machine = machines.items.find((x) => x.metadata?.name === name);
        if (!m.cordoned && node?.spec?.unschedulable) m.cordoned = now;
        if (!m.handedOut && machine?.spec?.revision === target) m.handedOut = now;
        if (!m.ready && m.handedOut && isReady(node) && node?.status?.nodeInfo?.kubeletVersion === newKubelet)
          m.ready = now;
      }
      return [...milestones.values()].every((m) => m.ready);
    },
    600_000,
    100,
  );
  const rolloutSeconds = (Date.now() - rolloutStarted) / 1000;
  const upgrade = HOSTS.map(
    (h) => milestones.get(h) as { cordoned: number; handedOut: number; ready: number },
  );
  const upgradeBaseline = HOSTS.map((name, i) => {
    const started = kubeletStarts(cluster.rig.host(name)).filter((t) => t >= (upgrade[i]?.handedOut ?? 0))[0];
    return started ? (upgrade[i]?.ready ?? 0) - started : Number.NaN;
  });

  // Idle: let the hosts settle, then read each service's CPU time and RSS over a quiet window.
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  const idle = await idleUsage(cluster.rig.hosts, IDLE_SECONDS);

  const joinMedian = median(joins);
  const upgradeMedian = median(upgrade.map((m) => m.ready - m.handedOut));
  console.log(
    JSON.stringify({
      benchmark: 'real-hosts',
      hosts: HOSTS.length,
      versions: { kubelet: [oldKubelet, newKubelet], containerd: cluster.versions.containerd[0] },
      joinSeconds: { median: seconds(joinMedian), perHost: joins.map(seconds), target: 15 },
      joinBaselineKubeletToReadySeconds: {
        median: seconds(median(joinBaseline)),
        perHost: joinBaseline.map(seconds),
      },
      joinRatioToBaseline: round(joinMedian / median(joinBaseline)),
      upgradeSecondsExcludingDrain: {
        median: seconds(upgradeMedian),
        perHost: upgrade.map((m) => seconds(m.ready - m.handedOut)),
        target: 30,
      },
      upgradeSecondsIncludingDrain: {
        perHost: upgrade.map((m) => seconds(m.ready - (m.cordoned || m.handedOut))),
      },
      upgradeBaselineKubeletToReadySeconds: {
        median: seconds(median(upgradeBaseline)),
        perHost: upgradeBaseline.map(seconds),
      },
      upgradeRatioToBaseline: round(upgradeMedian / median(upgradeBaseline)),
      rolloutSeconds: round(rolloutSeconds, 1),
      idle: { windowSeconds: IDLE_SECONDS, ...idle, agentTargets: { rssMiB: 80, cpuPercentOfCore: 0.5 } },
    }),
  );
} finally {
  operator?.kill('SIGTERM');
  await cluster.stop();
}

/** Per service (median over hosts): RSS and its anonymous part at the end of the window, CPU as a percentage of one core. */
async function idleUsage(hosts: readonly RealHost[], windowSeconds: number) {
  const services = {
    agent: 'node-agent.mjs',
    kubelet: '/usr/local/bin/kubelet',
    containerd: '/usr/local/lib/containerd/containerd',
  };
  const find = (host: RealHost, marker: string) =>
    host.cgroups.pids().find((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
          .split('\0')
          .some((arg) => arg.endsWith(marker));
      } catch {
        return false;
      }
    });
  const cpuTicks = (pid: number) => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return Number(fields[11]) + Number(fields[12]);
  };
  const rssMiB = (pid: number) =>
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  // RSS counts the executable's resident code pages (clean, file-backed, shared between processes of the
  // same binary); the anonymous part is the process's own memory.
  const anonymousMiB = (pid: number) =>
    Number(/Anonymous:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0) / 1024;
  const pids = hosts.map((host) =>
    Object.fromEntries(Object.entries(services).map(([name, marker]) => [name, find(host, marker)])),
  );
  const before = pids.map((p) =>
    Object.fromEntries(Object.entries(p).map(([name, pid]) => [name, pid ? cpuTicks(pid) : 0])),
  );
  await new Promise((resolve) => setTimeout(resolve, windowSeconds * 1000));
  const ticksPerSecond = 100; // USER_HZ on Linux
  const result: Record<string, { rssMiB: number; anonymousMiB: number; cpuPercentOfCore: number }> = {};
  for (const name of Object.keys(services)) {
    const rss: number[] = [];
    const anonymous: number[] = [];
    const cpu: number[] = [];
    pids.forEach((p, i) => {
      const pid = p[name];
      if (!pid) return;
      rss.push(rssMiB(pid));
      anonymous.push(anonymousMiB(pid));
      cpu.push(((cpuTicks(pid) - (before[i]?.[name] ?? 0)) / ticksPerSecond / windowSeconds) * 100);
    });
    result[name] = rss.length
      ? {
          rssMiB: round(median(rss), 1),
          anonymousMiB: round(median(anonymous), 1),
          cpuPercentOfCore: round(median(cpu), 2),
        }
      : { rssMiB: Number.NaN, anonymousMiB: Number.NaN, cpuPercentOfCore: Number.NaN };
  }
  return result;
}
