import { describe, expect, it } from 'vitest';
import { machineRoutesIntoRig } from './machine-routes.ts';

const HOSTS = new Set(['10.213.0.10', '10.213.0.11']);
const SERVICES = '10.96.0.0/12';

describe('machineRoutesIntoRig', () => {
  it("routes every rig host's pod CIDRs via that host, and the Services via the first host by name", () => {
    const routes = machineRoutesIntoRig(
      HOSTS,
      [
        { name: 'worker-1', address: '10.213.0.11', podCIDRs: ['10.244.1.0/24'] },
        { name: 'worker-0', address: '10.213.0.10', podCIDRs: ['10.244.0.0/24', 'fd00::/64'] },
      ],
      SERVICES,
    );
    expect(routes).toEqual([
      { destination: '10.244.0.0/24', via: '10.213.0.10' },
      { destination: '10.244.1.0/24', via: '10.213.0.11' },
      { destination: SERVICES, via: '10.213.0.10' },
    ]);
  });

  it('leaves out Nodes that are not rig hosts, and routes the Services only via a Node with a pod CIDR', () => {
    const routes = machineRoutesIntoRig(
      HOSTS,
      [
        { name: 'a-elsewhere', address: '192.0.2.7', podCIDRs: ['10.244.9.0/24'] },
        { name: 'worker-0', address: '10.213.0.10', podCIDRs: [] },
        { name: 'worker-1', address: '10.213.0.11', podCIDRs: ['10.244.1.0/24'] },
      ],
      SERVICES,
    );
    expect(routes).toEqual([
      { destination: '10.244.1.0/24', via: '10.213.0.11' },
      { destination: SERVICES, via: '10.213.0.11' },
    ]);
  });

  it('refuses an IPv6 Service CIDR, which no rig host could carry', () => {
    expect(() => machineRoutesIntoRig(HOSTS, [], 'fd00:10:96::/108')).toThrow(/IPv4 only/);
  });

  it('routes nothing before any rig host has a pod CIDR', () => {
    expect(
      machineRoutesIntoRig(HOSTS, [{ name: 'worker-0', address: '10.213.0.10', podCIDRs: [] }], SERVICES),
    ).toEqual([]);
  });
});
