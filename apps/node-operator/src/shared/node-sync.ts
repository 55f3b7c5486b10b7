import { Labels } from '@kok/api';
import type { Machine, Taint } from '@kok/api';
import type { V1Node, V1Taint } from '@kubernetes/client-node';
import { OperatorAnnotations } from './resources.ts';

/** What kok set on a Node, kept in an annotation on it, so kok only ever takes back its own. */
export interface OwnedByKok {
  labels: string[];
  /** `key:effect` of each taint. */
  taints: string[];
  /** kok cordoned the Node (it was schedulable before). */
  unschedulable: boolean;
}

/** The Node a Machine asks for: its labels (plus the pool label), taints, and cordon. */
export interface DesiredNode {
  labels: Record<string, string>;
  taints: Taint[];
  unschedulable: boolean;
}

export function desiredNodeFor(machine: Machine): DesiredNode {
  const labels: Record<string, string> = { ...(machine.spec?.labels ?? {}) };
  if (machine.spec?.pool) labels[Labels.pool] = machine.spec.pool;
  return {
    labels,
    taints: machine.spec?.taints ?? [],
    unschedulable:
      machine.spec?.unschedulable === true ||
      // A deleted Machine's host is leaving: nothing new is scheduled there.
      machine.metadata?.deletionTimestamp !== undefined ||
      machine.metadata?.annotations?.[OperatorAnnotations.cordonedByRollout] !== undefined,
  };
}

export function ownedByKokOf(node: V1Node): OwnedByKok {
  const raw = node.metadata?.annotations?.[OperatorAnnotations.ownedByKok];
  try {
    const parsed = raw ? (JSON.parse(raw) as Partial<OwnedByKok>) : {};
    return {
      labels: Array.isArray(parsed.labels) ? parsed.labels.filter((l) => typeof l === 'string') : [],
      taints: Array.isArray(parsed.taints) ? parsed.taints.filter((t) => typeof t === 'string') : [],
      unschedulable: parsed.unschedulable === true,
    };
  } catch {
    return { labels: [], taints: [], unschedulable: false };
  }
}

const taintId = (taint: { key: string; effect: string }): string => `${taint.key}:${taint.effect}`;

/**
 * The merge patch that brings `node` to `desired` touching only what kok owns,
 * or undefined when the Node is already right. Labels and taints kok set before
 * but no longer wants are removed; labels and taints others set are kept. kok
 * cordons when asked and uncordons only a cordon it made itself. The patch
 * carries the Node's resourceVersion, so a concurrent change (e.g. the node
 * lifecycle controller adding a taint) makes it fail instead of being lost.
 */
export function nodePatchFor(node: V1Node, desired: DesiredNode): Record<string, unknown> | undefined {
  const owned = ownedByKokOf(node);
  const current = node.metadata?.labels ?? {};
  const labels: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(desired.labels)) if (current[key] !== value) labels[key] = value;
  for (const key of owned.labels) if (!(key in desired.labels) && key in current) labels[key] = null;

  const desiredTaintIds = new Set(desired.taints.map(taintId));
  const ownedTaintIds = new Set(owned.taints);
  const currentTaints = node.spec?.taints ?? [];
  const othersTaints = currentTaints.filter(
    (t) => !desiredTaintIds.has(taintId(t)) && !ownedTaintIds.has(taintId(t)),
  );
  const nextTaints: V1Taint[] = [
    ...othersTaints,
    ...desired.taints.map((t) => ({ key: t.key, effect: t.effect, ...(t.value ? { value: t.value } : {}) })),
  ];
  const taintsChanged = !sameTaints(currentTaints, nextTaints);

  const cordoned = node.spec?.unschedulable === true;
  let unschedulable: boolean | undefined;
  let ownsCordon = owned.unschedulable && cordoned;
  if (desired.unschedulable && !cordoned) {
    unschedulable = true;
    ownsCordon = true;
  } else if (!desired.unschedulable && owned.unschedulable && cordoned) {
    unschedulable = false;
    ownsCordon = false;
  }

  const nextOwned: OwnedByKok = {
    labels: Object.keys(desired.labels).sort(),
    taints: [...desiredTaintIds].sort(),
    unschedulable: ownsCordon,
  };
  const ownedChanged = JSON.stringify(nextOwned) !== JSON.stringify(owned);
  if (Object.keys(labels).length === 0 && !taintsChanged && unschedulable === undefined && !ownedChanged)
    return undefined;

  const metadata: Record<string, unknown> = { resourceVersion: node.metadata?.resourceVersion };
  if (Object.keys(labels).length > 0) metadata.labels = labels;
  if (ownedChanged) metadata.annotations = { [OperatorAnnotations.ownedByKok]: JSON.stringify(nextOwned) };
  const spec: Record<string, unknown> = {};
  if (taintsChanged) spec.taints = nextTaints.length > 0 ? nextTaints : null;
  if (unschedulable !== undefined) spec.unschedulable = unschedulable ? true : null;
  return Object.keys(spec).length > 0 ? { metadata, spec } : { metadata };
}

function sameTaints(a: readonly V1Taint[], b: readonly V1Taint[]): boolean {
  const key = (t: V1Taint): string => `${t.key}=${t.value ?? ''}:${t.effect}`;
  return a.length === b.length && a.map(key).sort().join('\n') === b.map(key).sort().join('\n');
}
