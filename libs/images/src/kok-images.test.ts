import { parseImageDigest } from '@kok/api';
import { describe, expect, it } from 'vitest';
import { controlPlaneImageDigests } from './kok-images.ts';

const digest = (c: string) => `sha256:${c.repeat(64)}`;

describe('controlPlaneImageDigests', () => {
  it("pins the control-plane images that were built, under the operator's references, and no app image", () => {
    const pinned = controlPlaneImageDigests([
      {
        name: 'kube-on-kube-operator',
        reference: 'ghcr.io/kok-dev/kube-on-kube-operator:0.1.0',
        digest: digest('a'),
      },
      { name: 'etcd', reference: 'registry.k8s.io/etcd:3.6.16-0', digest: digest('b') },
      { name: 'kube-apiserver', reference: 'registry.k8s.io/kube-apiserver:v1.36.3', digest: digest('c') },
    ]);
    expect(pinned).toEqual({
      'registry.k8s.io/etcd:3.6.16-0': digest('b'),
      'registry.k8s.io/kube-apiserver:v1.36.3': digest('c'),
    });
    // Each entry is what the operator's --image-digest takes.
    for (const [reference, d] of Object.entries(pinned))
      expect(parseImageDigest(`${reference}@${d}`)).toEqual([reference, d]);
  });

  it('is empty when no control-plane image was built', () => {
    expect(controlPlaneImageDigests([])).toEqual({});
  });
});
