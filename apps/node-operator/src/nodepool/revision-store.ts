import { apiVersionOf, NodePoolResource, revisionName } from '@kok/api';
import type { NodePool, NodePoolTemplate } from '@kok/api';
import { isAlreadyExists, isNotFound } from '@kok/reconcile';
import type { KubeClient } from '@kok/reconcile';
import type { V1ControllerRevision } from '@kubernetes/client-node';
import { controllerRevisionType, REVISION_POOL_LABEL } from '../shared/resources.ts';
import type { RevisionRecord } from './revision-history.ts';
import { nextRevisionNumber, revisionsToPrune } from './revision-history.ts';

const HASH_LABEL = 'nodes.kok.dev/revision';

/**
 * A pool's rendered templates, one ControllerRevision each (named
 * `<pool>-<hash>`, owned by the NodePool so they go with it), so a rollback
 * can write an earlier revision's components and files back. Templates are
 * immutable per hash, so they are cached in memory once read.
 */
export class RevisionStore {
  readonly #client: KubeClient;
  readonly #namespace: string;
  readonly #historyLimit: number;
  readonly #templates = new Map<string, NodePoolTemplate>();

  constructor(client: KubeClient, namespace: string, historyLimit: number) {
    this.#client = client;
    this.#namespace = namespace;
    this.#historyLimit = historyLimit;
  }

  /** Makes sure `hash` of `pool` is stored; on a new one, prunes the pool's history down to the limit. */
  async ensure(
    pool: NodePool,
    hash: string,
    template: NodePoolTemplate,
    inUse: ReadonlySet<string>,
  ): Promise<void> {
    const poolName = pool.metadata?.name ?? '';
    const name = revisionName(poolName, hash);
    if (this.#templates.has(name)) return;
    const records = await this.#records(poolName);
    if (!records.some((r) => r.name === name)) {
      const revision: V1ControllerRevision = {
        metadata: {
          name,
          namespace: this.#namespace,
          labels: { [REVISION_POOL_LABEL]: poolName, [HASH_LABEL]: hash },
          ownerReferences: [
            {
              apiVersion: apiVersionOf(NodePoolResource),
              kind: 'NodePool',
              name: poolName,
              uid: pool.metadata?.uid ?? '',
              controller: true,
              blockOwnerDeletion: false,
            },
          ],
        },
        revision: nextRevisionNumber(records),
        data: template,
      };
      try {
        await this.#client.create(controllerRevisionType, revision);
      } catch (error) {
        if (!isAlreadyExists(error)) throw error;
      }
      const stale = revisionsToPrune(records, new Set([...inUse, hash]), this.#historyLimit - 1);
      for (const old of stale) {
        await this.#client.delete(controllerRevisionType, { namespace: this.#namespace, name: old });
        this.#templates.delete(old);
      }
    }
    this.#templates.set(name, template);
  }

  /** The template of `hash`, or undefined when it is not stored (pruned or never seen). */
  async template(poolName: string, hash: string): Promise<NodePoolTemplate | undefined> {
    const name = revisionName(poolName, hash);
    const cached = this.#templates.get(name);
    if (cached) return cached;
    try {
      const revision = await this.#client.get(controllerRevisionType, { namespace: this.#namespace, name });
      const template = revision.data as NodePoolTemplate;
      this.#templates.set(name, template);
      return template;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async #records(poolName: string): Promise<RevisionRecord[]> {
    const { items } = await this.#client.list(controllerRevisionType, {
      namespace: this.#namespace,
      labelSelector: `${REVISION_POOL_LABEL}=${poolName}`,
    });
    return items.map((r) => ({
      name: r.metadata?.name ?? '',
      hash: r.metadata?.labels?.[HASH_LABEL] ?? '',
      number: r.revision,
    }));
  }
}
