import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { HOST_PATH, hostExecution } from './host-execution.ts';

describe('hostExecution', () => {
  it("runs commands as they are for an agent on the host, whose root is the host's", () => {
    const here = hostExecution({ root: '/srv/host-1' });
    expect(here.entersHost).toBe(false);
    expect(here.rootOnHost).toBe('/srv/host-1');
    expect(here.command(['/usr/bin/true', '-x'])).toEqual(['/usr/bin/true', '-x']);
    expect(here.hostPath('/srv/host-1/var/lib/kok-agent/x.tar')).toBe('/srv/host-1/var/lib/kok-agent/x.tar');
  });

  it("enters PID 1's mount namespace and cgroups for an agent in a container, naming paths as the host does", () => {
    const inContainer = hostExecution({ root: '/host', rootOnHost: '/', enterHostNamespaces: true });
    const argv = inContainer.command(['/opt/kok/kubelet/current/kubelet', '--v=2']);
    expect(argv.slice(0, 6)).toEqual(['nsenter', '--target', '1', '--mount', '--', '/bin/sh']);
    expect(argv.slice(-2)).toEqual(['/opt/kok/kubelet/current/kubelet', '--v=2']);
    expect(inContainer.hostPath('/host/var/lib/kok-agent/downloads/a.tgz')).toBe(
      '/var/lib/kok-agent/downloads/a.tgz',
    );
    expect(inContainer.hostPath('/host')).toBe('/');
    expect(() => inContainer.hostPath('/etc/passwd')).toThrow(/not under the agent's root \/host/);
    expect(() => inContainer.hostPath('/host/../etc')).toThrow(/not under/);
  });

  it('refuses a relative root on the host', () => {
    expect(() => hostExecution({ root: '/host', rootOnHost: 'host' })).toThrow(/must be absolute/);
  });

  it('joins each cgroup PID 1 is in, then execs the command with its arguments intact', () => {
    // The wrapper's script, run here without nsenter: this process's PID 1 is the machine's, whose cgroups
    // (the root of each hierarchy) any root process may join. `sh -c` sees the command as "$@".
    const argv = hostExecution({ root: '/host', rootOnHost: '/', enterHostNamespaces: true }).command([
      'sh',
      '-c',
      'cat /proc/self/cgroup; echo "args: $1|$2"; echo "path: $PATH"',
      'x',
      'a b',
      '$c',
    ]);
    const [, , , , , ...wrapper] = argv;
    const out = execFileSync(wrapper[0] as string, wrapper.slice(1), { encoding: 'utf8' });
    const pid1 = execFileSync('cat', ['/proc/1/cgroup'], { encoding: 'utf8' });
    const hierarchies = (text: string) =>
      new Map(
        text
          .trim()
          .split('\n')
          .filter((line) => !line.startsWith('0::'))
          .map((line) => [line.split(':')[1], line.split(':')[2]]),
      );
    expect(hierarchies(out.split('args:')[0] as string)).toEqual(hierarchies(pid1));
    expect(out).toContain('args: a b|$c');
    expect(out).toContain(`path: ${HOST_PATH}`);
  });
});
