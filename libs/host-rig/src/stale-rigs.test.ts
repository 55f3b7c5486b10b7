import { describe, expect, it } from 'vitest';
import { rigOwns } from './stale-rigs.ts';

const rig = { subnet: 7, dir: '/tmp/kok-rig-abc', cgroupParent: '/kok-rig7' };

describe('rigOwns', () => {
  it.each([
    ['its network namespaces', 'kok-7-0', true],
    ['its bridge', 'kokbr7', true],
    ['its veth ends', 'kokv7h1', true],
    ['a process in its cgroups', '4242 /kok-rig7/hosts/h0 kubelet --config …', true],
    ['a mount under its directory', '/tmp/kok-rig-abc/hosts/h0/var/lib/kubelet', true],
    ["another rig's namespace", 'kok-17-0', false],
    ["another rig's bridge", 'kokbr70', false],
    ["a process in another rig's cgroups", '4244 /kok-rig70/hosts/h0 kubelet', false],
    ['a process elsewhere', '4243 /user.slice sshd', false],
  ])('%s: %s', (_, name, owned) => {
    expect(rigOwns(rig, name)).toBe(owned);
  });
});
