import type {
  KubernetesObject,
  V1ConfigMap,
  V1DaemonSet,
  V1Deployment,
  V1Service,
} from '@kubernetes/client-node';
import type { ClusterSpec } from '@kok/api';
import { describe, expect, it } from 'vitest';
import { resolveCluster } from '../cluster-spec.ts';
import type { AddonPlan } from './addon-bundle.ts';
import { addonBundle, addonTypeOf } from './addon-bundle.ts';

const cluster = (spec: Partial<ClusterSpec> = {}) =>
  resolveCluster({ metadata: { namespace: 'fleet', name: 'east' }, spec: { version: 'v1.36.3', ...spec } });
const withAddress = { controlPlane: { apiServer: { advertiseAddress: '10.213.0.1' } } };
const objectsOf = (plan: AddonPlan): readonly KubernetesObject[] =>
  plan.kind === 'blocked' ? [] : plan.objects;
const find = <T>(plan: AddonPlan, kind: string, name: string) =>
  objectsOf(plan).find((o) => o.kind === kind && o.metadata?.name === name) as T | undefined;
const templateAnnotations = (plan: AddonPlan, kind: string, name: string) =>
  find<V1Deployment>(plan, kind, name)?.spec?.template.metadata?.annotations;

describe('addonBundle', () => {
  it('renders CoreDNS and kube-proxy at the versions paired with the Cluster', () => {
    const { coreDNS, kubeProxy } = addonBundle(cluster(withAddress)).plans;
    expect(coreDNS).toMatchObject({
      kind: 'apply',
      version: 'v1.13.1',
      image: 'registry.k8s.io/coredns/coredns:v1.13.1',
    });
    expect(kubeProxy).toMatchObject({
      kind: 'apply',
      version: 'v1.36.3',
      image: 'registry.k8s.io/kube-proxy:v1.36.3',
    });
    expect(find<V1DaemonSet>(kubeProxy, 'DaemonSet', 'kube-proxy')?.spec?.template.spec?.hostNetwork).toBe(
      true,
    );
    for (const plan of [coreDNS, kubeProxy]) {
      // Workloads come after what they mount and run as.
      const kinds = objectsOf(plan).map((o) => o.kind);
      expect(kinds.indexOf('ConfigMap')).toBeLessThan(
        kinds.findIndex((k) => k === 'Deployment' || k === 'DaemonSet'),
      );
      expect(kinds.indexOf('ServiceAccount')).toBe(0);
      for (const obj of objectsOf(plan)) expect(() => addonTypeOf(obj)).not.toThrow();
    }
  });

  it('puts kube-dns at the tenth service address and serves the Cluster domain', () => {
    const { coreDNS } = addonBundle(
      cluster({
        network: { serviceCIDR: '172.20.0.0/16', podCIDR: '10.8.0.0/16', dnsDomain: 'east.example' },
      }),
    ).plans;
    expect(find<V1Service>(coreDNS, 'Service', 'kube-dns')?.spec?.clusterIP).toBe('172.20.0.10');
    expect(find<V1ConfigMap>(coreDNS, 'ConfigMap', 'coredns')?.data?.Corefile).toContain(
      'kubernetes east.example in-addr.arpa ip6.arpa',
    );
  });

  it('points kube-proxy at the advertise address, with the Cluster pod CIDR, and restarts it when that changes', () => {
    const at = (advertiseAddress: string) =>
      addonBundle(
        cluster({
          controlPlane: { apiServer: { advertiseAddress } },
          network: { serviceCIDR: 'fd00:96::/108', podCIDR: 'fd00:244::/64' },
        }),
      ).plans.kubeProxy;
    const config = find<V1ConfigMap>(at('fd00::7'), 'ConfigMap', 'kube-proxy')?.data ?? {};
    expect(config['kubeconfig.conf']).toContain('server: https://[fd00::7]:6443');
    expect(config['config.conf']).toContain('clusterCIDR: fd00:244::/64');
    expect(config['config.conf']).toContain('mode: iptables');
    // kube-proxy reads its kubeconfig at start only: the pod template changes with it.
    expect(templateAnnotations(at('fd00::8'), 'DaemonSet', 'kube-proxy')).not.toEqual(
      templateAnnotations(at('fd00::7'), 'DaemonSet', 'kube-proxy'),
    );
  });

  it('rolls CoreDNS when its Corefile changes, and not otherwise', () => {
    const of = (dnsDomain: string, version = 'v1.36.3') =>
      templateAnnotations(
        addonBundle(cluster({ version, network: { dnsDomain } })).plans.coreDNS,
        'Deployment',
        'coredns',
      );
    expect(of('a.example')).not.toEqual(of('b.example'));
    expect(of('a.example', 'v1.36.3')).toEqual(of('a.example', 'v1.36.4'));
  });

  it('holds kube-proxy back, saying why, without an address nodes reach', () => {
    const { coreDNS, kubeProxy } = addonBundle(cluster()).plans;
    expect(coreDNS.kind).toBe('apply');
    expect(kubeProxy.kind === 'blocked' && kubeProxy.reason).toMatch(
      /spec.controlPlane.apiServer.advertiseAddress/,
    );
  });

  it('holds CoreDNS back for a minor it pairs no version with, or a service CIDR without room for kube-dns', () => {
    const unknownMinor = addonBundle(cluster({ ...withAddress, version: 'v1.37.0' })).plans;
    expect(unknownMinor.coreDNS.kind === 'blocked' && unknownMinor.coreDNS.reason).toMatch(
      /no CoreDNS version with v1.37.0/,
    );
    expect(unknownMinor.kubeProxy).toMatchObject({ kind: 'apply', version: 'v1.37.0' });
    const tiny = addonBundle(cluster({ network: { serviceCIDR: '10.96.0.0/29' } })).plans.coreDNS;
    expect(tiny.kind === 'blocked' && tiny.reason).toBe(
      'spec.network.serviceCIDR 10.96.0.0/29 has no tenth address for kube-dns',
    );
    // Switched off, such a Cluster renders the names to remove all the same.
    const off = addonBundle(
      cluster({ network: { serviceCIDR: '10.96.0.0/29' }, addons: { coreDNS: { enabled: false } } }),
    );
    expect(off.plans.coreDNS.kind).toBe('remove');
  });

  it('removes what is disabled, and the hash tells the two apart', () => {
    const enabled = addonBundle(cluster(withAddress));
    const disabled = addonBundle(cluster({ ...withAddress, addons: { coreDNS: { enabled: false } } }));
    expect(disabled.plans.kubeProxy.kind).toBe('apply');
    expect(objectsOf(disabled.plans.coreDNS).map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual([
      'ServiceAccount/coredns',
      'ClusterRole/system:coredns',
      'ClusterRoleBinding/system:coredns',
      'ConfigMap/coredns',
      'Deployment/coredns',
      'Service/kube-dns',
    ]);
    expect(disabled.plans.coreDNS.kind).toBe('remove');
    expect(disabled.hash).not.toBe(enabled.hash);
  });

  it('keeps its hash for the same Cluster, and changes it with the version or the address', () => {
    const hash = (spec: Partial<ClusterSpec>) => addonBundle(cluster(spec)).hash;
    expect(hash(withAddress)).toBe(hash(withAddress));
    expect(hash({ ...withAddress, version: 'v1.35.4' })).not.toBe(hash(withAddress));
    expect(hash({ controlPlane: { apiServer: { advertiseAddress: '10.213.0.2' } } })).not.toBe(
      hash(withAddress),
    );
    // What does not reach the add-ons leaves it alone.
    expect(
      hash({ ...withAddress, controlPlane: { ...withAddress.controlPlane, scheduler: { replicas: 3 } } }),
    ).toBe(hash(withAddress));
  });
});
