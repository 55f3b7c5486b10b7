/**
 * Deletion, in reverse bring-up order: node-operator, controller-manager and scheduler, then
 * the apiserver, then etcd, then the PKI — each tier gone before the next is
 * touched, so nothing ever runs without what it depends on. Pure.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { Annotations, Labels } from '@kok/api';
import type { ComponentLabel } from './names.ts';

export const TEARDOWN_TIERS: readonly (readonly ComponentLabel[])[] = [
  ['node-operator', 'kube-controller-manager', 'kube-scheduler'],
  ['kube-apiserver'],
  ['etcd'],
  ['pki'],
];

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
