/**
 * Two Clusters of one namespace must never share an object name: Clusters `x`
 * and `x-etcd` once shared Secret `x-etcd-ca`, so each one's certificates were
 * valid etcd clients of the other. Every derived name is a prefix, the Cluster's
 * name and a suffix (names.ts). Clusters A and B = A + t share a name exactly
 * when, for one kind and prefix, a suffix is t followed by another suffix. The
 * Cluster CRD refuses names with those endings t (CLUSTER_NAME_FORBIDDEN_ENDINGS
 * in @kok/api); this module derives them from names.ts, so a test holds the
 * two together. A Cluster whose name predates the rule is not held for it: the
 * owner checks keep two such Clusters from adopting each other's objects. Pure.
 */
import type { DerivedName } from './names.ts';
import { clusterNames, derivedObjectNames } from './names.ts';

/** Stands for the Cluster's name in a name template; no Cluster name contains it. */
const PLACEHOLDER = '\u0000';

/** The most etcd members the CRD allows: each member's pod and volume claim has a name. */
export const MAX_ETCD_REPLICAS = 7;

export interface NameTemplate {
  kind: DerivedName['kind'];
  prefix: string;
  suffix: string;
}

/** How each object name is made from the Cluster's name. */
export function nameTemplates(): NameTemplate[] {
  return derivedObjectNames(clusterNames('namespace', PLACEHOLDER), MAX_ETCD_REPLICAS).map(
    ({ kind, name }) => {
      const [prefix = '', suffix = ''] = name.split(PLACEHOLDER);
      return { kind, prefix, suffix };
    },
  );
}

/** The endings t for which Clusters A and A + t would share an object name. */
export function collidingNameEndings(templates: readonly NameTemplate[] = nameTemplates()): string[] {
  const endings = new Set<string>();
  for (const longer of templates)
    for (const shorter of templates)
      if (
        longer.kind === shorter.kind &&
        longer.prefix === shorter.prefix &&
        longer.suffix.length > shorter.suffix.length &&
        longer.suffix.endsWith(shorter.suffix)
      )
        endings.add(longer.suffix.slice(0, longer.suffix.length - shorter.suffix.length));
  return [...endings].sort();
}
