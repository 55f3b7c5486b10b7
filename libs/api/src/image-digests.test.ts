import { describe, expect, it } from 'vitest';
import { parseImageDigest, pinnedImage } from './image-digests.ts';

const digest = `sha256:${'ab'.repeat(32)}`;

describe('parseImageDigest', () => {
  it('splits a pinned reference, a registry port included', () => {
    expect(parseImageDigest(`registry.k8s.io/kube-apiserver:v1.36.3@${digest}`)).toEqual([
      'registry.k8s.io/kube-apiserver:v1.36.3',
      digest,
    ]);
    expect(parseImageDigest(`localhost:5000/etcd:3.6.16-0@${digest}`)).toEqual([
      'localhost:5000/etcd:3.6.16-0',
      digest,
    ]);
  });

  it.each([
    ['no digest', 'registry.k8s.io/kube-apiserver:v1.36.3'],
    ['no tag', `registry.k8s.io/kube-apiserver@${digest}`],
    ['a registry port but no tag', `localhost:5000/etcd@${digest}`],
    ['a short digest', 'registry.k8s.io/kube-apiserver:v1.36.3@sha256:abc'],
    ['another algorithm', `registry.k8s.io/kube-apiserver:v1.36.3@sha512:${'ab'.repeat(32)}`],
    ['upper-case hex', `registry.k8s.io/kube-apiserver:v1.36.3@sha256:${'AB'.repeat(32)}`],
  ])('refuses %s, saying what it wants', (_, pinned) => {
    expect(() => parseImageDigest(pinned)).toThrow(/is not <image>:<tag>@sha256:<64 hex digits>/);
  });
});

describe('pinnedImage', () => {
  const digests = new Map([['registry.k8s.io/kube-apiserver:v1.36.3', digest]]);
  it('pins an image the table has, and leaves the others to their tag', () => {
    expect(pinnedImage('registry.k8s.io/kube-apiserver:v1.36.3', digests)).toBe(
      `registry.k8s.io/kube-apiserver:v1.36.3@${digest}`,
    );
    expect(pinnedImage('registry.k8s.io/kube-apiserver:v1.35.4', digests)).toBe(
      'registry.k8s.io/kube-apiserver:v1.35.4',
    );
    expect(pinnedImage('registry.k8s.io/etcd:3.6.16-0', undefined)).toBe('registry.k8s.io/etcd:3.6.16-0');
  });
});
