import type { KubernetesObject, V1ConfigMap, V1ManagedFieldsEntry } from '@kubernetes/client-node';
import { sharedKubeConfig } from '@kok/testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlreadyExists, isConflict } from './api-errors.ts';
import { builtinTypes } from './builtin-types.ts';
import { createOrApplyGuarded } from './guarded-write.ts';
import { KubeClient, PatchType } from './kube-client.ts';
import type { ResourceType } from './resource-type.ts';
import { configMap, freshNamespace } from './test-support.ts';

let client: KubeClient;
let ns: string;

beforeAll(async () => {
  client = new KubeClient(sharedKubeConfig(), { qps: 100, burst: 200, fieldManager: 'kok-test' });
  ns = await freshNamespace(client, 'guarded-write');
});
afterAll(() => client?.close());

const ownership = (entries: V1ManagedFieldsEntry[] | undefined) =>
  entries?.map((entry) => [entry.manager, entry.operation]);

describe('createOrApplyGuarded against a real apiserver', () => {
  it('removes a key it stops rendering from an object it created', async () => {
    const created = await createOrApplyGuarded(
      client,
      builtinTypes.configMap,
      configMap(ns, 'created', { kept: '1', dropped: '2' }),
      undefined,
    );
    expect(ownership(created.metadata?.managedFields)).toEqual([['kok-test', 'Apply']]);
    const applied = await createOrApplyGuarded(
      client,
      builtinTypes.configMap,
      configMap(ns, 'created', { kept: '1' }),
      created,
    );
    expect(applied.data).toEqual({ kept: '1' });
  });

  it('hands over an object a plain create wrote, and drops what the apply leaves out', async () => {
    const created = await client.create(
      builtinTypes.configMap,
      configMap(ns, 'older', { kept: '1', dropped: '2' }),
    );
    expect(ownership(created.metadata?.managedFields)).toEqual([['kok-test', 'Update']]);
    // The trouble itself: a plain apply does not release what the create wrote.
    const plain = await client.apply(builtinTypes.configMap, configMap(ns, 'older', { kept: '1' }));
    expect(plain.data).toEqual({ kept: '1', dropped: '2' });
    const applied = await createOrApplyGuarded(
      client,
      builtinTypes.configMap,
      configMap(ns, 'older', { kept: '1' }),
      plain,
    );
    expect(applied.data).toEqual({ kept: '1' });
    expect(ownership(applied.metadata?.managedFields)).toEqual([['kok-test', 'Apply']]);
  });

  it('keeps what another manager owns', async () => {
    const created = await createOrApplyGuarded(
      client,
      builtinTypes.configMap,
      configMap(ns, 'shared', { kept: '1' }),
      undefined,
    );
    const other = new KubeClient(sharedKubeConfig(), { fieldManager: 'someone-else' });
    const touched = await other.patch<V1ConfigMap>(
      builtinTypes.configMap,
      { namespace: ns, name: 'shared' },
      'application/merge-patch+json',
      { data: { theirs: 'x' } },
    );
    other.close();
    const applied = await createOrApplyGuarded(
      client,
      builtinTypes.configMap,
      configMap(ns, 'shared', { kept: '2' }),
      touched,
    );
    expect(applied.data).toEqual({ kept: '2', theirs: 'x' });
    expect(created.metadata?.resourceVersion).not.toBe(applied.metadata?.resourceVersion);
  });

  it('hands over on a fresh read when another writer changed the object in between', async () => {
    const other = new KubeClient(sharedKubeConfig(), { fieldManager: 'someone-else' });
    /** Returns each apply's response only after another manager wrote the object: that response is outdated. */
    class RacedClient extends KubeClient {
      override async apply<T extends KubernetesObject>(
        type: ResourceType<T>,
        obj: T,
        options?: { subresource?: string; signal?: AbortSignal },
      ): Promise<T> {
        const response = await super.apply(type, obj, options);
        await other.patch(builtinTypes.configMap, { namespace: ns, name: 'raced' }, PatchType.merge, {
          metadata: { annotations: { touched: String(Date.now()) } },
        });
        return response;
      }
    }
    const raced = new RacedClient(sharedKubeConfig(), { fieldManager: 'kok-test' });
    try {
      const created = await raced.create(
        builtinTypes.configMap,
        configMap(ns, 'raced', { kept: '1', dropped: '2' }),
      );
      const written = await createOrApplyGuarded(
        raced,
        builtinTypes.configMap,
        configMap(ns, 'raced', { kept: '1' }),
        created,
      );
      expect(written.data).toEqual({ kept: '1' });
      expect(ownership(written.metadata?.managedFields)).toContainEqual(['kok-test', 'Apply']);
      expect(ownership(written.metadata?.managedFields)).not.toContainEqual(['kok-test', 'Update']);
    } finally {
      raced.close();
      other.close();
    }
  });

  it('still refuses to overwrite what its cache did not see', async () => {
    const live = await createOrApplyGuarded(
      client,
      builtinTypes.configMap,
      configMap(ns, 'guard', { a: '1' }),
      undefined,
    );
    const again = await createOrApplyGuarded(
      client,
      builtinTypes.configMap,
      configMap(ns, 'guard', { a: '2' }),
      undefined,
    ).catch((error: unknown) => error);
    expect(isAlreadyExists(again)).toBe(true);
    await client.apply(builtinTypes.configMap, configMap(ns, 'guard', { a: '3' }));
    const stale = await createOrApplyGuarded(
      client,
      builtinTypes.configMap,
      configMap(ns, 'guard', { a: '4' }),
      live,
    ).catch((error: unknown) => error);
    expect(isConflict(stale)).toBe(true);
  });
});
