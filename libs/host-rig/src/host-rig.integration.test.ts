/**
 * The rig on this machine, with a shell standing in for the node-agent (the
 * real agent, kubelet and containerd are in the e2e suite): a host gets its
 * own network namespace and address, reaches the gateway and nothing else
 * needs to, lives in its own cgroups, and teardown leaves nothing behind.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '@kok/testing';
import { serveArtifacts } from './artifact-server.ts';
import { HostRig } from './host-rig.ts';
import { ROOT_IN_HOST } from './real-host.ts';
import { realHostSupport } from './host-support.ts';
import { leftovers, snapshotMachine } from './machine-snapshot.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The rig runs the provisioned command's arguments, then --root <root> and its own flags.
const STAND_IN_AGENT = [
  'sh',
  '-c',
  [
    'while [ $# -gt 0 ]; do case $1 in --root) root=$2 ;; --kubeconfig) kubeconfig=$2 ;; esac; shift; done',
    'echo "$kubeconfig" > "$root/kubeconfig-flag"',
    'ip -o -4 addr show eth0 > "$root/address"',
    // The host's PID namespace, as a pod with hostPID sees it: PID 1 is the host's init.
    'head -c 13 /proc/1/cmdline > "$root/pid1"',
    'busybox wget -q -O "$root/fetched" "$(cat "$root/url")"',
    // What a runtime does: mounts, a chain in its own iptables, a daemon that leaves its session.
    'mkdir -p "$root/mnt" && mount -t tmpfs kok-test "$root/mnt"',
    'iptables -N KOK-TEST-HOST',
    'setsid sleep 3600 &',
    'exec sleep 3600',
  ].join('\n'),
  'stand-in-agent',
];

const support = realHostSupport();
const runsHere = support.supported || process.env.CI === 'true';

describe.runIf(runsHere)('host rig', () => {
  let rig: HostRig | undefined;
  afterAll(async () => {
    await rig?.destroy().catch(() => undefined);
  });

  it('runs on this machine (under CI it must: the real-host suites depend on it)', () => {
    expect(support.problems).toEqual([]);
  });

  it('gives each host a namespace, an address that reaches the gateway, and cgroups; teardown leaves nothing', async () => {
    const before = await snapshotMachine();
    rig = await HostRig.create({ agentCommand: STAND_IN_AGENT });
    const served = mkdtempSync(join(tmpdir(), 'kok-rig-served-'));
    writeFileSync(join(served, 'hello'), 'from the gateway\n');
    const server = await serveArtifacts(served, rig.gateway);
    const hosts = [];
    for (const name of ['rig-test-a', 'rig-test-b']) {
      const host = await rig.startHost(name, {
        files: [{ path: '/url', mode: 0o600, content: server.urlOf('hello') }],
        agentCommand: `node-agent --machine ${name} --kubeconfig /etc/kok/agent.kubeconfig`,
      });
      hosts.push(host);
    }
    for (const host of hosts) {
      await eventually(
        `${host.name} to fetch from the gateway`,
        async () => readFileSync(host.path('/fetched'), 'utf8') === 'from the gateway\n',
        20_000,
        { context: () => host.logTail() },
      );
      expect(readFileSync(host.path('/address'), 'utf8')).toContain(`inet ${host.address}/24`);
      // A host path in the provisioned command is a path under the host's root.
      expect(readFileSync(host.path('/kubeconfig-flag'), 'utf8')).toBe(
        `${ROOT_IN_HOST}/etc/kok/agent.kubeconfig\n`,
      );
      expect(statSync(host.path('/url')).mode & 0o777).toBe(0o600);
      expect(readFileSync(host.path('/pid1'), 'utf8')).toBe('kok-host-init');
      // The stand-in itself and the sleep that left its session.
      expect(host.cgroups.pids().length).toBeGreaterThanOrEqual(2);
    }
    expect(new Set(hosts.map((h) => h.address)).size).toBe(2);
    const during = await snapshotMachine();
    expect(during.namespaces).toEqual(expect.arrayContaining(hosts.map((h) => h.network.namespace)));

    await server.close();
    rmSync(served, { recursive: true, force: true });
    const owns = (entry: string) => rig?.owns(entry) ?? false;
    await rig.destroy();
    rig = undefined;
    const after = await snapshotMachine();
    expect(leftovers(before, after, owns)).toEqual({});
    // The stand-ins' processes, the hosts' tmpfs mounts and iptables chain were all theirs alone.
    expect(after.iptables.some((rule) => rule.includes('KOK-TEST-HOST'))).toBe(false);
  });

  it('sweeps a rig whose process was SIGKILLed when the next rig is created', async () => {
    const before = await snapshotMachine();
    const orphan = spawn(
      process.execPath,
      [fileURLToPath(new URL('./fixtures/orphaned-rig.ts', import.meta.url))],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const subnet = await new Promise<number>((resolve, reject) => {
      orphan.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
      orphan.once('exit', (code) => reject(new Error(`the orphan rig exited (${code}) before it was up`)));
    });
    expect(existsSync(`/run/netns/kok-${subnet}-0`)).toBe(true);
    orphan.kill('SIGKILL');
    await new Promise((resolve) => orphan.once('exit', resolve));

    const next = await HostRig.create({ agentCommand: STAND_IN_AGENT });
    await next.destroy();
    const after = await snapshotMachine();
    const theirs = (entry: string) =>
      [`kok-${subnet}-`, `kokbr${subnet}`, `kokv${subnet}h`, `kok-rig${subnet}`, 'orphan'].some((mark) =>
        entry.includes(mark),
      );
    expect(leftovers(before, after, theirs)).toEqual({});
  });
});
