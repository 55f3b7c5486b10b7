import type { KubernetesObject } from '@kubernetes/client-node';
import { isNotFound } from './api-errors.ts';
import type { KubeClient } from './kube-client.ts';
import type { ResourceType } from './resource-type.ts';

/**
 * What code that only reads objects of one type needs. An Informer is one (its cache answers at
 * once); `apiReader` is one that asks the apiserver, for code that runs without a cache (a
 * command-line tool, a one-off check). Await every answer: either may be a promise.
 */
export interface Reader<T extends KubernetesObject> {
  /** The object, or undefined when there is none. */
  getByName(namespace: string | undefined, name: string): T | undefined | Promise<T | undefined>;
  /** Every object, or those of `namespace`. */
  list(namespace?: string): T[] | Promise<T[]>;
}

/** A Reader that asks the apiserver on every call (a list fetches every page). */
export function apiReader<T extends KubernetesObject>(client: KubeClient, type: ResourceType<T>): Reader<T> {
  return {
    async getByName(namespace, name) {
      try {
        return await client.get(type, { namespace, name });
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    async list(namespace) {
      return (await client.list(type, { namespace })).items;
    },
  };
}
