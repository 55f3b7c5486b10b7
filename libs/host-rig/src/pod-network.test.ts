import { describe, expect, it } from 'vitest';
import { desiredPodRoutes, masqueradeRule, parseRoutes, planPodRoutes } from './pod-network.ts';

const hosts = new Set(['10.213.0.10', '10.213.0.11', '10.213.0.12']);
const node = (name: string, address: string | undefined, ...podCIDRs: string[]) => ({
  name,
  address,
  podCIDRs,
});

describe('desiredPodRoutes', () => {
  it.each([
    {
      case: 'a route to every other host’s pod CIDR, none to its own',
      nodes: [node('a', '10.213.0.10', '10.244.0.0/24'), node('b', '10.213.0.11', '10.244.1.0/24')],
      routes: [{ destination: '10.244.1.0/24', via: '10.213.0.11' }],
    },
    {
      case: 'a Node without a pod CIDR yet (the controller-manager gives it after registration)',
      nodes: [node('b', '10.213.0.11')],
      routes: [],
    },
    {
      case: 'a Node not on a rig host (kwok, another network) and one without an address',
      nodes: [node('kwok', '10.9.9.9', '10.244.7.0/24'), node('new', undefined, '10.244.8.0/24')],
      routes: [],
    },
    {
      case: 'IPv6 CIDRs are left out',
      nodes: [node('c', '10.213.0.12', '10.244.2.0/24', 'fd00:10:244:2::/64')],
      routes: [{ destination: '10.244.2.0/24', via: '10.213.0.12' }],
    },
  ])('$case', ({ nodes, routes }) => {
    expect(desiredPodRoutes('10.213.0.10', hosts, nodes)).toEqual(routes);
  });
});

describe('planPodRoutes', () => {
  const r = (destination: string, via: string) => ({ destination, via });
  it.each([
    {
      case: 'nothing to do',
      current: [r('10.244.1.0/24', '10.213.0.11')],
      desired: [r('10.244.1.0/24', '10.213.0.11')],
      add: [],
      remove: [],
    },
    {
      case: 'a new Node',
      current: [],
      desired: [r('10.244.1.0/24', '10.213.0.11')],
      add: [r('10.244.1.0/24', '10.213.0.11')],
      remove: [],
    },
    {
      case: 'a Node gone',
      current: [r('10.244.1.0/24', '10.213.0.11')],
      desired: [],
      add: [],
      remove: [r('10.244.1.0/24', '10.213.0.11')],
    },
    {
      case: 'a CIDR now on another host',
      current: [r('10.244.1.0/24', '10.213.0.11')],
      desired: [r('10.244.1.0/24', '10.213.0.12')],
      add: [r('10.244.1.0/24', '10.213.0.12')],
      remove: [r('10.244.1.0/24', '10.213.0.11')],
    },
  ])('$case', ({ current, desired, add, remove }) => {
    expect(planPodRoutes(current, desired)).toEqual({ add, remove });
  });
});

describe('parseRoutes', () => {
  it('reads ip -j route output, routes without a gateway left out', () => {
    expect(
      parseRoutes(
        '[{"dst":"10.244.1.0/24","gateway":"10.213.0.11","dev":"eth0","protocol":"213","flags":[]},{"dst":"10.244.0.0/24","dev":"cni0"}]\n',
      ),
    ).toEqual([{ destination: '10.244.1.0/24', via: '10.213.0.11' }]);
    expect(parseRoutes('')).toEqual([]);
  });
});

describe('masqueradeRule', () => {
  it('masquerades pod traffic leaving the pod network only', () => {
    expect(masqueradeRule('10.244.0.0/16').join(' ')).toBe(
      'POSTROUTING -s 10.244.0.0/16 ! -d 10.244.0.0/16 -m comment --comment kok-rig: pods to outside the pod network -j MASQUERADE',
    );
  });
});
