import { describe, expect, it } from 'vitest';
import { binaryForImage } from './image-binary.ts';

describe('binaryForImage', () => {
  it.each([
    ['registry.k8s.io/etcd:3.6.16-0', 'etcd'],
    ['registry.k8s.io/kube-apiserver:v1.36.3', 'kube-apiserver'],
    ['registry.k8s.io/kube-controller-manager:v1.36.3', 'kube-controller-manager'],
    ['registry.k8s.io/kube-scheduler:v1.36.3', 'kube-scheduler'],
    ['localhost:5000/mirror/kube-apiserver:v1.36.3', 'kube-apiserver'],
    ['registry.k8s.io/kube-apiserver@sha256:abc', 'kube-apiserver'],
    ['kube-scheduler', 'kube-scheduler'],
    ['registry.k8s.io/pause:3.10', undefined],
    ['registry.k8s.io/kube-apiserver-never-ready:v1', undefined],
    ['', undefined],
  ])('%s → %s', (image, binary) => {
    expect(binaryForImage(image)).toBe(binary);
  });
});
