/**
 * Deletion, the bring-up list (components/bring-up-order.ts) walked backwards:
 * the components furthest down the dependency chain go first (node-operator,
 * controller-manager and scheduler), then the apiserver, then etcd, then the
 * PKI — each tier gone, its pods with it (delete.ts deletes in the
 * foreground), before the next is touched, so nothing ever runs without what
 * it depends on. Pure.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { Annotations, Labels } from '@kok/api';
import { controlPlaneComponents, nodeTierComponents } from '../components/bring-up-order.ts';
import type { ComponentName, ControlPlaneComponent } from '../components/component.ts';
import type { ComponentLabel } from '../names.ts';

/**
 * The component labels in teardown order, one tier per depth in the dependency chain, deepest
 * first; components of equal depth (side by side at bring-up) go together.
 */
export function teardownTiers(components: readonly ControlPlaneComponent[]): ComponentLabel[][] {
  const byName = new Map(components.map((c) => [c.name, c]));
  const depths = new Map<ComponentName, number>();
  const depthOf = (component: ControlPlaneComponent): number => {
    const known = depths.get(component.name);
    if (known !== undefined) return known;
    const dependencies = component.dependsOn.flatMap((name) => byName.get(name) ?? []);
    const depth = dependencies.length === 0 ? 0 : 1 + Math.max(...dependencies.map(depthOf));
    depths.set(component.name, depth);
    return depth;
  };
  const tiers = new Map<number, ComponentLabel[]>();
  for (const component of components) {
    if (!component.label) continue;
    const depth = depthOf(component);
    tiers.set(depth, [...(tiers.get(depth) ?? []), component.label]);
  }
  return [...tiers.entries()].sort(([a], [b]) => b - a).map(([, labels]) => labels);
}

export const TEARDOWN_TIERS: readonly (readonly ComponentLabel[])[] = teardownTiers([
  ...controlPlaneComponents,
  ...nodeTierComponents,
]);

export interface TeardownStep {
  /** Objects to delete now. */
  delete: KubernetesObject[];
  /** Objects of the current tier still there (some may be going already). */
  remaining: number;
  /** Every owned object is gone: the finalizer may be removed. */
  done: boolean;
}

function tierOf(obj: KubernetesObject): number {
  const component = obj.metadata?.labels?.[Labels.clusterComponent];
  const tier = TEARDOWN_TIERS.findIndex((t) => t.some((c) => c === component));
  // Anything unrecognised goes with the last tier: nothing depends on it by name.
  return tier < 0 ? TEARDOWN_TIERS.length - 1 : tier;
}

export function teardownStep(owned: readonly KubernetesObject[]): TeardownStep {
  if (owned.length === 0) return { delete: [], remaining: 0, done: true };
  const tier = Math.min(...owned.map(tierOf));
  const current = owned.filter((obj) => tierOf(obj) === tier);
  return {
    delete: current.filter((obj) => !obj.metadata?.deletionTimestamp),
    remaining: current.length,
    done: false,
  };
}

/** A Cluster with deletion-protection "true" keeps its finalizer and everything it runs while deleted. */
export const isDeletionProtected = (annotations: Record<string, string> | undefined): boolean =>
  annotations?.[Annotations.deletionProtection] === 'true';
