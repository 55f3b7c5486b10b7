import { machineBootstrap } from '@kok/pki';
import { describe, expect, it } from 'vitest';
import { agentArguments, mountsUnder } from './real-host.ts';

const ROOT = '/tmp/kok-rig-x/hosts/rh-0';

describe('agentArguments', () => {
  it('runs the command `kubectl kok machine bootstrap` prints, its host paths under the host root', () => {
    const printed = machineBootstrap({
      machine: 'rh-0',
      token: 'abcdef.0123456789abcdef',
      expiresAt: new Date('2026-01-01T00:15:00Z'),
      server: 'https://10.213.0.1:6443',
      clusterName: 'kok',
      certificateAuthorityPem: 'CA',
    }).agentCommand;
    expect(agentArguments(printed, 'rh-0', ROOT)).toEqual([
      '--machine',
      'rh-0',
      '--bootstrap-kubeconfig',
      `${ROOT}/etc/kubernetes/bootstrap-kubelet.conf`,
      '--kubeconfig',
      `${ROOT}/etc/kok/agent.kubeconfig`,
    ]);
  });

  it.each([
    ['another Machine', 'node-agent --machine rh-1', /for Machine rh-1, not rh-0/],
    ['no Machine', 'node-agent --kubeconfig /k', /for Machine \(none\), not rh-0/],
    ['another program', 'kubelet --machine rh-0', /must start with node-agent/],
  ])('refuses a command for %s', (_what, command, error) => {
    expect(() => agentArguments(command, 'rh-0', ROOT)).toThrow(error);
  });
});

describe('mountsUnder', () => {
  it('lists the mount points at or under a directory, not beside it', () => {
    const mountinfo = [
      `1 0 0:1 / / rw - ext4 /dev/sda rw`,
      `2 1 0:2 / ${ROOT} rw - tmpfs kok rw`,
      `3 2 0:3 / ${ROOT}/var/lib/kubelet/pods/p/volumes rw - tmpfs tmpfs rw`,
      `4 1 0:4 / ${ROOT}-other rw - tmpfs tmpfs rw`,
    ].join('\n');
    expect(mountsUnder(ROOT, mountinfo)).toEqual([ROOT, `${ROOT}/var/lib/kubelet/pods/p/volumes`]);
  });
});
