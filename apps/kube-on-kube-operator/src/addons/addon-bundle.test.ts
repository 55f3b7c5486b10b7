import type { V1ConfigMap, V1DaemonSet, V1Deployment, V1Service } from '@kubernetes/client-node';
import type { ClusterSpec } from '@kok/api';
import { describe, expect, it } from 'vitest';
import { resolveCluster } from '../cluster-spec.ts';
import { addonBundle, addonTypeOf } from './addon-bundle.ts';

const cluster = (spec: Partial<ClusterSpec> = {}) =>
  resolveCluster({ metadata: { namespace: 'fleet', name: 'east' }, spec: { version: 'v1.36.3', ...spec } });
const withAddress = { controlPlane: { apiServer: { advertiseAddress: '10.213.0.1' } } };
const find = <T>(
  objects: readonly { kind?: string; metadata?: { name?: string } }[],
  kind: string,
  name: string,
) => objects.find((o) => o.kind === kind && o.metadata?.name === name) as T | undefined;

describe('addonBundle', () => {
  it('renders CoreDNS and kube-proxy at the versions paired with the Cluster', () => {
    const bundle = addonBundle(cluster(withAddress));
    expect(bundle.versions).toEqual({ coreDNS: 'v1.13.1', kubeProxy: 'v1.36.3' });
    expect(bundle.blocked).toEqual({});
    expect(bundle.remove).toEqual([]);
    const coredns = find<V1Deployment>(bundle.apply, 'Deployment', 'coredns');
    expect(coredns?.spec?.template.spec?.containers[0]?.image).toBe(
      'registry.k8s.io/coredns/coredns:v1.13.1',
    );
    const proxy = find<V1DaemonSet>(bundle.apply, 'DaemonSet', 'kube-proxy');
    expect(proxy?.spec?.template.spec?.containers[0]?.image).toBe('registry.k8s.io/kube-proxy:v1.36.3');
    expect(proxy?.spec?.template.spec?.hostNetwork).toBe(true);
    // Workloads come after what they mount and run as.
    const kinds = bundle.apply.map((o) => o.kind);
    expect(kinds.indexOf('ConfigMap')).toBeLessThan(kinds.indexOf('Deployment'));
    expect(kinds.lastIndexOf('ConfigMap')).toBeLessThan(kinds.indexOf('DaemonSet'));
    for (const obj of bundle.apply) expect(() => addonTypeOf(obj)).not.toThrow();
  });

  it('puts kube-dns at the tenth service address and serves the Cluster domain', () => {
    const bundle = addonBundle(
      cluster({
        network: { serviceCIDR: '172.20.0.0/16', podCIDR: '10.8.0.0/16', dnsDomain: 'east.example' },
      }),
    );
    expect(find<V1Service>(bundle.apply, 'Service', 'kube-dns')?.spec?.clusterIP).toBe('172.20.0.10');
    expect(find<V1ConfigMap>(bundle.apply, 'ConfigMap', 'coredns')?.data?.Corefile).toContain(
      'kubernetes east.example in-addr.arpa ip6.arpa',
    );
  });

  it('points kube-proxy at the advertise address, with the Cluster pod CIDR', () => {
    const bundle = addonBundle(
      cluster({
        controlPlane: { apiServer: { advertiseAddress: 'fd00::7' } },
        network: { podCIDR: '10.8.0.0/16' },
      }),
    );
    const config = find<V1ConfigMap>(bundle.apply, 'ConfigMap', 'kube-proxy')?.data ?? {};
    expect(config['kubeconfig.conf']).toContain('server: https://[fd00::7]:6443');
    expect(config['config.conf']).toContain('clusterCIDR: 10.8.0.0/16');
    expect(config['config.conf']).toContain('mode: iptables');
  });

  it('holds kube-proxy back, saying why, without an address nodes reach', () => {
    const bundle = addonBundle(cluster());
    expect(bundle.versions).toEqual({ coreDNS: 'v1.13.1' });
    expect(bundle.blocked.kubeProxy).toMatch(/spec.controlPlane.apiServer.advertiseAddress/);
    expect(bundle.apply.some((o) => o.kind === 'DaemonSet')).toBe(false);
    // Not removed either: one deployed before stays as it is.
    expect(bundle.remove).toEqual([]);
  });

  it('holds CoreDNS back for a minor it pairs no version with', () => {
    const bundle = addonBundle(cluster({ ...withAddress, version: 'v1.37.0' }));
    expect(bundle.blocked.coreDNS).toMatch(/no CoreDNS version with v1.37.0/);
    expect(bundle.versions).toEqual({ kubeProxy: 'v1.37.0' });
  });

  it('removes what is disabled, and the hash tells the two apart', () => {
    const enabled = addonBundle(cluster(withAddress));
    const disabled = addonBundle(cluster({ ...withAddress, addons: { coreDNS: { enabled: false } } }));
    expect(disabled.apply.some((o) => o.metadata?.name === 'coredns')).toBe(false);
    expect(disabled.remove.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual([
      'ServiceAccount/coredns',
      'ClusterRole/system:coredns',
      'ClusterRoleBinding/system:coredns',
      'ConfigMap/coredns',
      'Deployment/coredns',
      'Service/kube-dns',
    ]);
    expect(disabled.hash).not.toBe(enabled.hash);
    const none = addonBundle(
      cluster({ addons: { coreDNS: { enabled: false }, kubeProxy: { enabled: false } } }),
    );
    expect(none.apply).toEqual([]);
    expect(none.remove.map((o) => o.kind)).toContain('DaemonSet');
  });

  it('changes its hash with the Cluster version, and only then', () => {
    expect(addonBundle(cluster(withAddress)).hash).toBe(addonBundle(cluster(withAddress)).hash);
    expect(addonBundle(cluster({ ...withAddress, version: 'v1.35.4' })).hash).not.toBe(
      addonBundle(cluster(withAddress)).hash,
    );
  });
});
