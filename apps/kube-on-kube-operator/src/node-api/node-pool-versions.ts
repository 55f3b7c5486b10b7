/**
 * A Cluster's spec.nodePools, after its control plane: which NodePools of the
 * biz-cluster get which versions (only components their templates already
 * have, as a JSON patch of those versions alone), whether each pool is up to
 * date, and what the Cluster reports. Pure; node-tier.ts reads and writes.
 */
import { ClusterConditions, findCondition, NodePoolConditions } from '@kok/api';
import type { ComponentVersionRef, NodePoolObject } from '@kok/api';
import type { JsonPatchOperation } from '@kok/reconcile';
import type { ClusterObject } from '../resource-types.ts';

/** While pools move: read them again this often (the node-operator's progress brings no event here). */
export const NODE_POOLS_RECHECK_MS = 15_000;
/** The condition's message names at most this many pools still moving, then counts the rest. */
export const NAMED_POOLS = 5;

export type NodePoolsStep =
  /** spec.nodePools is not set: nothing is read or reported. */
  | { kind: 'unset' }
  /** Up to date for this generation already: the pools are not read again. */
  | { kind: 'settled' }
  /** The control plane is not Available at spec.version yet: pools wait, unread. */
  | { kind: 'waitControlPlane'; message: string }
  /** The node API is not in the biz-cluster (or the node-operator is disabled). */
  | { kind: 'waitNodeApi'; message: string }
  | { kind: 'read'; wanted: readonly ComponentVersionRef[] };

/** What this pass does about spec.nodePools. */
export function nodePoolsStep(
  cluster: ClusterObject,
  controlPlaneReady: boolean,
  nodeApi: { installed: boolean; reason: string },
): NodePoolsStep {
  const wanted = cluster.spec.nodePools?.components;
  if (!wanted) return { kind: 'unset' };
  const upToDate = findCondition(cluster.status?.conditions, ClusterConditions.NodePoolsUpToDate);
  if (upToDate?.status === 'True' && upToDate.observedGeneration === cluster.metadata.generation)
    return { kind: 'settled' };
  if (!controlPlaneReady)
    return {
      kind: 'waitControlPlane',
      message: `the NodePools wait for the control plane to be Available at ${cluster.spec.version}`,
    };
  if (!nodeApi.installed)
    return {
      kind: 'waitNodeApi',
      message: `the NodePools wait for the nodes.kok.dev API in the biz-cluster (NodeAPIInstalled: ${nodeApi.reason})`,
    };
  return { kind: 'read', wanted };
}

/** The last read of a Cluster's NodePools: the Cluster's generation then, and when (ms since the epoch). */
export interface PoolsRead {
  generation: number;
  at: number;
}

/**
 * Milliseconds until the pools may be read again, 0 when due now: a pass (any Cluster event) reads them at most
 * once per NODE_POOLS_RECHECK_MS, unless the Cluster's spec changed since the last read.
 */
export function poolsReadWait(last: PoolsRead | undefined, generation: number, now: number): number {
  if (!last || last.generation !== generation) return 0;
  return Math.max(0, last.at + NODE_POOLS_RECHECK_MS - now);
}

/**
 * The JSON patch that sets the wanted versions in the pool's template: for each component the template already
 * has at another version, a test of its name at that index and a replace of its version. Empty when nothing changes.
 */
export function poolVersionPatch(
  pool: NodePoolObject,
  wanted: readonly ComponentVersionRef[],
): JsonPatchOperation[] {
  const versions = new Map(wanted.map((c) => [c.name, c.version]));
  return (pool.spec.template.components ?? []).flatMap((component, index) => {
    const version = versions.get(component.name);
    if (version === undefined || version === component.version) return [];
    const at = `/spec/template/components/${index}`;
    return [
      { op: 'test' as const, path: `${at}/name`, value: component.name },
      { op: 'replace' as const, path: `${at}/version`, value: version },
    ];
  });
}

/** Undefined when the pool is up to date; else why it still moves. */
export function poolStillMoving(
  pool: NodePoolObject,
  wanted: readonly ComponentVersionRef[],
): string | undefined {
  if (poolVersionPatch(pool, wanted).length > 0) return 'its template is not at these versions yet';
  const status = pool.status;
  if (!status?.updateRevision || (status.observedGeneration ?? 0) < (pool.metadata.generation ?? 0))
    return 'the node-operator has not taken up its template yet';
  const paused = findCondition(status.conditions, NodePoolConditions.Paused);
  if (paused?.status === 'True')
    return `paused (${paused.reason}${paused.message ? `: ${paused.message}` : ''})`;
  const failed = status.failedMachines ?? 0;
  if (failed > 0) return `failed: ${failed} machines failed at ${status.updateRevision}`;
  const machines = status.machines ?? 0;
  const updated = status.updatedMachines ?? 0;
  if (status.currentRevision !== status.updateRevision || updated < machines)
    return `${updated} of ${machines} machines updated`;
  return undefined;
}

export interface NodePoolsReport {
  pools: number;
  upToDate: number;
  condition: { status: boolean; reason: string; message: string };
}

/** What the Cluster reports of its pools, as read after this pass's patches. */
export function nodePoolsReport(
  pools: readonly NodePoolObject[],
  wanted: readonly ComponentVersionRef[],
): NodePoolsReport {
  const versions = wanted.map((c) => `${c.name} ${c.version}`).join(', ');
  const moving = pools
    .map((pool) => ({ name: pool.metadata.name ?? '', why: poolStillMoving(pool, wanted) }))
    .filter((p): p is { name: string; why: string } => p.why !== undefined)
    .sort((a, b) => a.name.localeCompare(b.name));
  const upToDate = pools.length - moving.length;
  if (moving.length === 0)
    return {
      pools: pools.length,
      upToDate,
      condition: {
        status: true,
        reason: 'UpToDate',
        message:
          pools.length === 0
            ? 'the biz-cluster has no NodePools'
            : `${pools.length} of ${pools.length} NodePools run ${versions} where their templates have them, fully rolled out`,
      },
    };
  const named = moving.slice(0, NAMED_POOLS).map((p) => `${p.name} (${p.why})`);
  const rest = moving.length - named.length;
  return {
    pools: pools.length,
    upToDate,
    condition: {
      status: false,
      reason: moving.some((p) => p.why.startsWith('paused') || p.why.startsWith('failed'))
        ? 'NodePoolsStuck'
        : 'RollingOut',
      message:
        `${upToDate} of ${pools.length} NodePools run ${versions}, fully rolled out; still moving: ` +
        `${named.join(', ')}${rest > 0 ? ` and ${rest} more` : ''}`,
    },
  };
}
