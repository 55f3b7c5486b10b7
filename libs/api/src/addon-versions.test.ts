import { describe, expect, it } from 'vitest';
import { COREDNS_VERSIONS, coreDnsImage, coreDnsVersionFor, kubeProxyImage } from './addon-versions.ts';

describe('add-on versions', () => {
  it.each([
    ['v1.36.3', 'v1.13.1'],
    ['v1.35.4', 'v1.13.1'],
    ['v1.36.0-rc.1', 'v1.13.1'],
    ['v1.34.2', undefined],
    ['latest', undefined],
  ])('CoreDNS for Kubernetes %s is %s', (kubernetes, coredns) => {
    expect(coreDnsVersionFor(kubernetes)).toBe(coredns);
  });

  it('lists each CoreDNS version the table names once', () => {
    expect(COREDNS_VERSIONS).toEqual(['v1.13.1']);
  });

  it('names the upstream images', () => {
    expect(coreDnsImage('v1.13.1')).toBe('registry.k8s.io/coredns/coredns:v1.13.1');
    expect(kubeProxyImage('v1.36.3')).toBe('registry.k8s.io/kube-proxy:v1.36.3');
  });
});
