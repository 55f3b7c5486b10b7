import type { KubernetesObject } from '@kubernetes/client-node';

/**
 * What the framework needs to know to address a kind over REST. The type
 * parameter is the TypeScript shape of the objects.
 */
export interface ResourceType<T extends KubernetesObject = KubernetesObject> {
  /** `v1` for the core group, otherwise `group/version`. */
  readonly apiVersion: string;
  readonly kind: string;
  /** Lower-case plural used in URLs, e.g. `configmaps`. */
  readonly plural: string;
  readonly namespaced: boolean;
  /** Never set: carries T for inference only. */
  readonly _object?: T;
}

export function resourceType<T extends KubernetesObject>(
  apiVersion: string,
  kind: string,
  plural: string,
  namespaced: boolean,
): ResourceType<T> {
  return { apiVersion, kind, plural, namespaced };
}

/** `/api/v1/namespaces/ns/configmaps/name/status`; leave out namespace for all namespaces. */
export function resourcePath(
  type: ResourceType,
  where: { namespace?: string | undefined; name?: string | undefined; subresource?: string } = {},
): string {
  const base = type.apiVersion.includes('/') ? `/apis/${type.apiVersion}` : `/api/${type.apiVersion}`;
  let path = base;
  if (type.namespaced && where.namespace) path += `/namespaces/${encodeURIComponent(where.namespace)}`;
  path += `/${type.plural}`;
  if (where.name !== undefined) path += `/${encodeURIComponent(where.name)}`;
  if (where.subresource) path += `/${where.subresource}`;
  return path;
}

/** An object's name; '' when it has none (an object the apiserver serves always has one). */
export function nameOf(obj: { metadata?: { name?: string | undefined } | undefined }): string {
  return obj.metadata?.name ?? '';
}

/** The store and queue key of an object: `namespace/name`, or `name` when cluster-scoped. */
export function objectKey(obj: { metadata?: { namespace?: string; name?: string } }): string {
  const ns = obj.metadata?.namespace;
  const name = nameOf(obj);
  return ns ? `${ns}/${name}` : name;
}

/** Splits a key made by objectKey. */
export function parseObjectKey(key: string): { namespace?: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
