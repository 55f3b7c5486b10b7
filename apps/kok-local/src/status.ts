/**
 * `kok status`: whether the local stack runs and, if so, what: its
 * processes, its kubeconfigs, the Clusters of the meta-cluster and the
 * NodePools of the biz-cluster. Gathering is I/O; rendering is pure.
 */
import { execFileSync } from 'node:child_process';
import { KubeConfig } from '@kubernetes/client-node';
import { clusterType, nodePoolType } from '@kok/api';
import { KubeClient } from '@kok/reconcile';
import { pathExportLine } from './instructions.ts';
import type { StackRecord } from './stack-record.ts';

export interface ProcessEntry {
  readonly pid: number;
  readonly ppid: number;
  readonly command: string;
}

/** `root` and every process below it, parents before their children. */
export function descendantProcesses(table: readonly ProcessEntry[], root: number): ProcessEntry[] {
  const children = Map.groupBy(table, (entry) => entry.ppid);
  const self = table.find((entry) => entry.pid === root);
  if (!self) return [];
  const found: ProcessEntry[] = [];
  const visit = (entry: ProcessEntry) => {
    found.push(entry);
    for (const child of children.get(entry.pid) ?? []) visit(child);
  };
  visit(self);
  return found;
}

/** Every process of the machine, as `ps` lists them. */
export function processTable(): ProcessEntry[] {
  const out = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' });
  return out.split('\n').flatMap((line) => {
    const match = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    return match ? [{ pid: Number(match[1]), ppid: Number(match[2]), command: match[3] ?? '' }] : [];
  });
}

export type StatusInput =
  | { readonly state: 'stopped'; readonly stateDir: string }
  | { readonly state: 'starting'; readonly stateDir: string; readonly pid: number }
  | {
      readonly state: 'running';
      readonly stateDir: string;
      readonly repositoryRoot: string;
      readonly record: StackRecord;
      readonly processes: readonly ProcessEntry[];
      /** One line per Cluster of the meta-cluster, or why they could not be read. */
      readonly clusters: readonly string[];
      /** One line per NodePool of the biz-cluster, or why they could not be read. */
      readonly pools: readonly string[];
    };

const WIDTH = 160;
const shorten = (text: string) => (text.length > WIDTH ? `${text.slice(0, WIDTH - 1)}…` : text);

export function renderStatus(input: StatusInput): string {
  if (input.state === 'stopped') return `kok is not running (nothing recorded in ${input.stateDir}).`;
  if (input.state === 'starting')
    return `kok is starting (pid ${input.pid}); \`npx kok status\` again once it prints "kok is up".`;
  const { record } = input;
  return [
    `kok is running (pid ${record.pid}, up since ${record.startedAt}; logs under ${record.stackDir}).`,
    '',
    `Processes (${input.processes.length}):`,
    ...input.processes.map((p) => shorten(`  ${String(p.pid).padStart(7)}  ${p.command}`)),
    '',
    'Kubeconfigs:',
    `  meta-cluster  ${record.metaKubeconfigPath}`,
    `  biz-cluster   ${record.bizKubeconfigPath}  (Cluster ${record.cluster.namespace}/${record.cluster.name}, through a local proxy)`,
    '',
    `Clusters (meta-cluster; their control planes run as ${record.controlPlane === 'containers' ? 'real containers on its real hosts' : 'local processes'}):`,
    ...input.clusters.map((line) => `  ${line}`),
    '',
    `NodePools (biz-cluster ${record.cluster.name}; ${record.machines.length} ${record.hosts.kind} hosts):`,
    ...input.pools.map((line) => `  ${line}`),
    '',
    `  ${pathExportLine(input.repositoryRoot, record.binDir)}`,
  ].join('\n');
}

/** Clusters and NodePools as status lines; an unreachable apiserver is a line too, not a failure. */
export async function clusterLines(record: StackRecord): Promise<{ clusters: string[]; pools: string[] }> {
  const client = (path: string) => {
    const config = new KubeConfig();
    config.loadFromFile(path);
    return new KubeClient(config, { requestTimeoutMs: 5_000 });
  };
  const meta = client(record.metaKubeconfigPath);
  const biz = client(record.bizKubeconfigPath);
  try {
    const [clusters, pools] = await Promise.all([
      meta.list(clusterType).then(
        (list) =>
          list.items.map((c) => {
            const available = c.status?.conditions?.find((x) => x.type === 'Available')?.status ?? 'Unknown';
            const version = c.status?.version?.current ?? c.spec?.version ?? '?';
            return `${c.metadata?.namespace}/${c.metadata?.name}  ${c.status?.phase ?? '-'}  ${version}  Available=${available}`;
          }),
        (error: unknown) => [`cannot list Clusters: ${String(error)}`],
      ),
      biz.list(nodePoolType).then(
        (list) =>
          list.items.map((pool) => {
            const s = pool.status;
            return `${pool.metadata?.name}  ${s?.readyMachines ?? 0}/${s?.machines ?? 0} ready, ${s?.updatedMachines ?? 0} updated${pool.spec.paused ? ', paused' : ''}`;
          }),
        (error: unknown) => [`cannot list NodePools: ${String(error)}`],
      ),
    ]);
    return {
      clusters: clusters.length > 0 ? clusters : ['(none)'],
      pools: pools.length > 0 ? pools : ['(none)'],
    };
  } finally {
    meta.close();
    biz.close();
  }
}
