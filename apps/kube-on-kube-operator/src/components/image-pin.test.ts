import type { KubernetesObject, V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import { etcdImage, kubeImage } from '@kok/api';
import { describe, expect, it } from 'vitest';
import { templateHashOf } from '../template-hash.ts';
import { controlPlaneComponents } from './bring-up-order.ts';
import type { RenderContext } from './component.ts';
import { renderContext } from './render-fixtures.ts';

const digest = `sha256:${'ab'.repeat(32)}`;

/** Each workload's name → [its image, its template hash]. */
function workloads(ctx: RenderContext): Map<string, [string | undefined, string | undefined]> {
  const objects = controlPlaneComponents.flatMap((c) => c.render(ctx) ?? []) as KubernetesObject[];
  return new Map(
    objects
      .filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')
      .map((o) => {
        const pod = (o as V1Deployment | V1StatefulSet).spec?.template.spec;
        return [o.metadata?.name ?? '', [pod?.containers[0]?.image, templateHashOf(o)]];
      }),
  );
}

describe('control-plane images pinned by digest', () => {
  it('runs each image the table names by its digest, and changes only those templates', async () => {
    const byTag = await renderContext();
    const apiServerImage = kubeImage('kube-apiserver', byTag.cluster.version);
    const pinned: RenderContext = { ...byTag, imageDigests: new Map([[apiServerImage, digest]]) };
    const before = workloads(byTag);
    const after = workloads(pinned);
    for (const [name, [image, hash]] of after) {
      const [imageBefore, hashBefore] = before.get(name) ?? [];
      if (name.endsWith('-apiserver')) {
        expect(image).toBe(`${apiServerImage}@${digest}`);
        expect(hash).not.toBe(hashBefore);
      } else {
        expect(image, name).toBe(imageBefore);
        expect(hash, name).toBe(hashBefore);
      }
    }
  });

  it('pins etcd too, and an empty table renders exactly what no table does', async () => {
    const byTag = await renderContext();
    const etcdReference = etcdImage(byTag.cluster.etcd.version ?? '');
    const pinned = workloads({ ...byTag, imageDigests: new Map([[etcdReference, digest]]) });
    expect([...pinned.values()].map(([image]) => image)).toContain(`${etcdReference}@${digest}`);
    expect(workloads({ ...byTag, imageDigests: new Map() })).toEqual(workloads(byTag));
  });
});
