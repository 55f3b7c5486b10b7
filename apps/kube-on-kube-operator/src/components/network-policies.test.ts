import { describe, expect, it } from 'vitest';
import { templateHashOf } from '../template-hash.ts';
import { controlPlaneComponents } from './bring-up-order.ts';
import type { IngressRule, NetworkPolicy } from './network-policies.ts';
import { MONITORING_NAMESPACE_LABEL, networkPolicies, renderNetworkPolicies } from './network-policies.ts';
import { OWNER, renderContext } from './render-fixtures.ts';

const pods = (component: string) => ({
  podSelector: {
    matchLabels: { 'clusters.kok.dev/cluster': 'prod', 'clusters.kok.dev/component': component },
  },
});
const monitoring = { namespaceSelector: { matchLabels: { [MONITORING_NAMESPACE_LABEL]: 'true' } } };
const tcp = (port: string) => ({ port, protocol: 'TCP' as const });

async function policies(): Promise<Map<string, NetworkPolicy>> {
  return new Map(renderNetworkPolicies(await renderContext()).map((p) => [p.metadata?.name ?? '', p]));
}

describe('control-plane NetworkPolicies', () => {
  it.each<[string, string, IngressRule[]]>([
    [
      'prod-etcd',
      'etcd',
      [
        {
          from: [
            pods('kube-apiserver'),
            pods('etcd'),
            {
              namespaceSelector: {},
              podSelector: { matchLabels: { 'app.kubernetes.io/name': 'kube-on-kube-operator' } },
            },
          ],
          ports: [tcp('client')],
        },
        { from: [pods('etcd')], ports: [tcp('peer')] },
        { from: [monitoring], ports: [tcp('metrics')] },
      ],
    ],
    ['prod-kube-apiserver', 'kube-apiserver', [{ ports: [tcp('https')] }]],
    [
      'prod-kube-controller-manager',
      'kube-controller-manager',
      [{ from: [monitoring], ports: [tcp('https')] }],
    ],
    ['prod-kube-scheduler', 'kube-scheduler', [{ from: [monitoring], ports: [tcp('https')] }]],
    ['prod-node-operator', 'node-operator', [{ from: [monitoring], ports: [tcp('metrics')] }]],
  ])('%s lets into the %s pods only %j', async (name, component, ingress) => {
    const policy = (await policies()).get(name);
    expect(policy?.spec).toEqual({
      podSelector: pods(component).podSelector,
      policyTypes: ['Ingress'],
      ingress,
    });
  });

  it('is exactly one policy per control-plane workload, in the Cluster namespace, owned by the Cluster', async () => {
    const rendered = [...(await policies()).values()];
    expect(rendered).toHaveLength(5);
    for (const policy of rendered) {
      expect(policy.metadata?.namespace).toBe('fleet');
      expect(policy.metadata?.ownerReferences).toEqual([OWNER]);
      expect(policy.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('kube-on-kube-operator');
      expect(templateHashOf(policy)).toBeTruthy();
    }
  });

  it('names ports the pods declare, so a renumbered port needs no second edit', async () => {
    const ctx = await renderContext();
    const declared = new Map<string, Set<string>>();
    for (const component of controlPlaneComponents)
      for (const object of component.render(ctx) ?? []) {
        const spec = (
          object as {
            spec?: {
              template?: {
                metadata?: { labels?: Record<string, string> };
                spec?: { containers?: { ports?: { name?: string }[] }[] };
              };
            };
          }
        ).spec;
        const label = spec?.template?.metadata?.labels?.['clusters.kok.dev/component'];
        if (!label) continue;
        const names = spec?.template?.spec?.containers
          ?.flatMap((c) => c.ports ?? [])
          .map((p) => p.name ?? '');
        declared.set(label, new Set(names));
      }
    for (const policy of renderNetworkPolicies(ctx)) {
      const component = policy.spec.podSelector.matchLabels?.['clusters.kok.dev/component'] ?? '';
      // The node-operator renders in the node tier; its port is checked in node-operator.test.ts.
      if (component === 'node-operator') continue;
      for (const port of policy.spec.ingress.flatMap((rule) => rule.ports))
        expect(declared.get(component), `${component} declares ${port.port}`).toContain(port.port);
    }
  });

  it('is written first, with the Services, and reports them as objects that exist as desired', async () => {
    expect(controlPlaneComponents.map((c) => c.name).slice(0, 2)).toEqual(['services', 'networkPolicies']);
    const ctx = await renderContext();
    const desired = networkPolicies.render(ctx) ?? [];
    expect(
      networkPolicies.status(
        desired.map(() => undefined),
        desired,
        ctx,
      ).reason,
    ).toBe('Missing');
    expect(networkPolicies.status(desired, desired, ctx)).toMatchObject({
      available: true,
      availableAtDesired: true,
    });
  });
});
