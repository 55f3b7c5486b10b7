/**
 * What a kind is besides its schema: group, version, names, scope and the
 * columns `kubectl get` prints. One ResourceDefinition per kind is the single
 * input to the CRD generator, the validators and the GVK constants.
 */
import type { TObject } from 'typebox';

export const NODES_GROUP = 'nodes.kok.dev';
export const CLUSTERS_GROUP = 'clusters.kok.dev';
export const API_VERSION_V1ALPHA1 = 'v1alpha1';
/** `kubectl get kok` lists every kok object. */
export const KOK_CATEGORY = 'kok';

export interface PrinterColumn {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  readonly jsonPath: string;
  readonly description: string;
  /** 0 shows in `kubectl get`, higher only with `-o wide`. Default 0. */
  readonly priority?: number;
}

export interface ResourceDefinition<Schema extends TObject = TObject> {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly scope: 'Cluster' | 'Namespaced';
  /** The whole object: apiVersion, kind, metadata, spec, status. */
  readonly schema: Schema;
  readonly printerColumns: readonly PrinterColumn[];
}

/** `group/version`, the apiVersion of objects of this kind. */
export function apiVersionOf(resource: Pick<ResourceDefinition, 'group' | 'version'>): string {
  return `${resource.group}/${resource.version}`;
}

/** `plural.group`, the CRD's name. */
export function crdNameOf(resource: Pick<ResourceDefinition, 'group' | 'plural'>): string {
  return `${resource.plural}.${resource.group}`;
}

export const AGE_COLUMN: PrinterColumn = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
  description: 'Time since the object was created.',
};

export function conditionColumn(name: string, conditionType: string, description: string): PrinterColumn {
  return {
    name,
    type: 'string',
    jsonPath: `.status.conditions[?(@.type=="${conditionType}")].status`,
    description,
  };
}
