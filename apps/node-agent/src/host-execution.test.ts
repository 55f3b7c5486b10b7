import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    expect(argv.slice(0, 8)).toEqual([
      'nsenter',
      '--target',
      '1',
      '--mount',
      '--ipc',
      '--cgroup',
      '--',
      '/bin/sh',
    ]);
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

  /** The wrapper's script, run here without nsenter: this process's PID 1 is the machine's. */
  function runWrapped(
    argv: readonly string[],
    options: { agentPath: string; env?: NodeJS.ProcessEnv; cgroupFile?: string },
  ): { status: number | null; stdout: string; stderr: string } {
    const wrapped = hostExecution({
      root: '/host',
      rootOnHost: '/',
      enterHostNamespaces: true,
      agentPath: options.agentPath,
    }).command(argv);
    const [shell, ...args] = wrapped.slice(wrapped.indexOf('--') + 1) as [string, ...string[]];
    // A stand-in for /proc/1/cgroup, to see what a host whose cgroups are elsewhere does.
    if (options.cgroupFile) args[1] = (args[1] as string).replace('/proc/1/cgroup', options.cgroupFile);
    const result = spawnSync(shell, args, {
      encoding: 'utf8',
      env: options.env ?? { PATH: options.agentPath },
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  it('joins each cgroup PID 1 is in, then execs the command with its arguments intact', () => {
    // Any root process may join the root of each hierarchy, where the machine's PID 1 is.
    const agentPath = process.env['PATH'] as string;
    const { stdout } = runWrapped(
      ['sh', '-c', 'cat /proc/self/cgroup; echo "args: $1|$2"; echo "path: $PATH"', 'x', 'a b', '$c'],
      { agentPath },
    );
    const pid1 = execFileSync('cat', ['/proc/1/cgroup'], { encoding: 'utf8' });
    const hierarchies = (text: string) =>
      new Map(
        text
          .trim()
          .split('\n')
          .filter((line) => !line.startsWith('0::'))
          .map((line) => [line.split(':')[1], line.split(':')[2]]),
      );
    expect(hierarchies(pid1).size, 'this machine mounts cgroup v1 hierarchies').toBeGreaterThan(0);
    expect(hierarchies(stdout.split('args:')[0] as string)).toEqual(hierarchies(pid1));
    expect(stdout).toContain('args: a b|$c');
    // It inherited the agent's PATH (the image's, in a container): it gets the host's.
    expect(stdout).toContain(`path: ${HOST_PATH}`);
  });

  it("keeps a command's own PATH", () => {
    const { stdout } = runWrapped(['/bin/sh', '-c', 'echo "path: $PATH"'], {
      agentPath: '/opt/image/bin:/usr/bin:/bin',
      env: { PATH: '/opt/service/bin:/usr/bin:/bin' },
    });
    expect(stdout).toBe('path: /opt/service/bin:/usr/bin:/bin\n');
  });

  it("fails, and runs nothing, when none of PID 1's cgroups can be joined", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cgroups-'));
    try {
      // What a private cgroup namespace shows: paths above its root, under no mounted hierarchy.
      await writeFile(join(dir, 'cgroup'), '4:memory:/../../../nowhere\n3:cpu,cpuacct:/../../../nowhere\n');
      const { status, stdout, stderr } = runWrapped(['echo', 'ran'], {
        agentPath: process.env['PATH'] as string,
        cgroupFile: join(dir, 'cgroup'),
      });
      expect(status).toBe(126);
      expect(stdout).toBe('');
      expect(stderr).toContain("none of PID 1's cgroups");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
