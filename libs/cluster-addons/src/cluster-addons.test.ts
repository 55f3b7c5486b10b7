import type { KubernetesObject, V1ConfigMap, V1DaemonSet, V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  ADDON_LABEL,
  addonLabels,
  configHashAnnotation,
  coreDnsObjects,
  isOwnAddonObject,
  kubeProxyObjects,
  kubeProxyServer,
} from './index.ts';

const cluster = {
  version: 'v1.36.3',
  network: { podCIDR: '10.8.0.0/16', dnsDomain: 'east.example' },
};
const find = <T>(objects: readonly KubernetesObject[], kind: string) =>
  objects.find((o) => o.kind === kind) as T;

describe('kubeProxyServer', () => {
  it.each([
    ['10.0.0.7', 6443, 'https://10.0.0.7:6443'],
    ['fd00::7', 6443, 'https://[fd00::7]:6443'],
    ['10.213.1.1', 16443, 'https://10.213.1.1:16443'],
  ])('%s port %d → %s', (address, port, url) => {
    expect(kubeProxyServer(address, port)).toBe(url);
  });
});

describe('kubeProxyObjects', () => {
  it('dials the server it is given and tells pod traffic by the pod CIDR', () => {
    const objects = kubeProxyObjects(cluster, 'https://10.213.1.1:6443');
    const config = find<V1ConfigMap>(objects, 'ConfigMap').data ?? {};
    expect(config['kubeconfig.conf']).toContain('server: https://10.213.1.1:6443');
    expect(config['config.conf']).toContain('clusterCIDR: 10.8.0.0/16');
    const daemonSet = find<V1DaemonSet>(objects, 'DaemonSet');
    expect(daemonSet.spec?.template.spec?.containers[0]?.image).toBe('registry.k8s.io/kube-proxy:v1.36.3');
    // A change of its configuration rolls its pods.
    expect(daemonSet.spec?.template.metadata?.annotations).toEqual(
      configHashAnnotation(find<V1ConfigMap>(objects, 'ConfigMap')),
    );
  });
});

describe('coreDnsObjects', () => {
  it('answers for the cluster domain, at the version it is given', () => {
    const objects = coreDnsObjects(cluster, 'v1.13.1', '172.20.0.10');
    expect(find<V1ConfigMap>(objects, 'ConfigMap').data?.Corefile).toContain(
      'kubernetes east.example in-addr.arpa ip6.arpa',
    );
    expect(find<V1Deployment>(objects, 'Deployment').spec?.template.spec?.containers[0]?.image).toBe(
      'registry.k8s.io/coredns/coredns:v1.13.1',
    );
  });
});

describe('configHashAnnotation', () => {
  const config = (data: Record<string, string>): V1ConfigMap => ({ data });

  it('is the same for the same content, whatever the key order, and differs for another', () => {
    const a = configHashAnnotation(config({ a: '1', b: '2' }));
    expect(configHashAnnotation(config({ b: '2', a: '1' }))).toEqual(a);
    expect(configHashAnnotation(config({ a: '1', b: '3' }))).not.toEqual(a);
    expect(Object.values(a)[0]).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('isOwnAddonObject', () => {
  const labelled = (labels: Record<string, string>): KubernetesObject => ({ metadata: { labels } });

  it.each([
    ['made for this add-on', labelled(addonLabels('coredns')), true],
    ['made for another add-on', labelled(addonLabels('kube-proxy')), false],
    ['named like it, not made by kok', labelled({ [ADDON_LABEL]: 'coredns' }), false],
    [
      'managed by someone else',
      labelled({ [ADDON_LABEL]: 'coredns', 'app.kubernetes.io/managed-by': 'Helm' }),
      false,
    ],
    ['without labels', { metadata: {} }, false],
  ])('%s: %s', (_, object, own) => {
    expect(isOwnAddonObject(object, 'coredns')).toBe(own);
  });
});
