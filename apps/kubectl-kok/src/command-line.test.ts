import { describe, expect, it } from 'vitest';
import { runCli } from './cli.ts';
import { ExitCode, UsageError } from './cli-errors.ts';
import { helpText, parseCommandLine, tokenTtlSeconds, VERBS } from './command-line.ts';

const base = { allNamespaces: false, all: false, watch: false, resume: false, etcdSnapshot: false };

describe('parseCommandLine', () => {
  it.each([
    [['cluster', 'list'], { kind: 'run', verb: 'cluster list', flags: base }],
    [
      ['clusters', 'list', '-A', '-o', 'wide'],
      { kind: 'run', verb: 'cluster list', flags: { ...base, allNamespaces: true, output: 'wide' } },
    ],
    [
      ['cluster', 'get', 'prod', '-n', 'fleet', '--context', 'meta', '--kubeconfig', '/k'],
      {
        kind: 'run',
        verb: 'cluster get',
        name: 'prod',
        flags: { ...base, namespace: 'fleet', context: 'meta', kubeconfig: '/k' },
      },
    ],
    [['kcl', 'kubeconfig', 'prod'], { kind: 'run', verb: 'cluster kubeconfig', name: 'prod', flags: base }],
    [
      ['cluster', 'backup', 'prod', '-n', 'fleet'],
      { kind: 'run', verb: 'cluster backup', name: 'prod', flags: { ...base, namespace: 'fleet' } },
    ],
    [
      ['cluster', 'backup', '--all', '-n', 'fleet'],
      { kind: 'run', verb: 'cluster backup', flags: { ...base, all: true, namespace: 'fleet' } },
    ],
    [
      ['clusters', 'backup', '-A'],
      { kind: 'run', verb: 'cluster backup', flags: { ...base, allNamespaces: true } },
    ],
    [
      ['cluster', 'backup', '--all', '--etcd-snapshot'],
      { kind: 'run', verb: 'cluster backup', flags: { ...base, all: true, etcdSnapshot: true } },
    ],
    [
      ['cluster', 'backup', 'prod', '--etcd-snapshot', '-n', 'fleet'],
      {
        kind: 'run',
        verb: 'cluster backup',
        name: 'prod',
        flags: { ...base, etcdSnapshot: true, namespace: 'fleet' },
      },
    ],
    [
      ['cluster', 'restore', '-f', 'backup.yaml'],
      { kind: 'run', verb: 'cluster restore', flags: { ...base, filename: 'backup.yaml' } },
    ],
    [
      ['cluster', 'restore', '-f', 'backup.yaml', '--etcd-snapshot-claim', 'etcd-snapshots'],
      {
        kind: 'run',
        verb: 'cluster restore',
        flags: { ...base, filename: 'backup.yaml', etcdSnapshotClaim: 'etcd-snapshots' },
      },
    ],
    [
      ['cluster', 'restore', '--filename=-', '--context', 'meta'],
      { kind: 'run', verb: 'cluster restore', flags: { ...base, filename: '-', context: 'meta' } },
    ],
    [
      ['nodepool', 'status', 'workers', '-w'],
      { kind: 'run', verb: 'nodepool status', name: 'workers', flags: { ...base, watch: true } },
    ],
    [
      ['knp', 'status', 'workers', '-o', 'yaml'],
      { kind: 'run', verb: 'nodepool status', name: 'workers', flags: { ...base, output: 'yaml' } },
    ],
    [
      ['nodepool', 'plan', 'workers', '--set', 'kubelet=v1.36.2', '--set', 'containerd=1.7.22', '-o', 'json'],
      {
        kind: 'run',
        verb: 'nodepool plan',
        name: 'workers',
        flags: { ...base, set: ['kubelet=v1.36.2', 'containerd=1.7.22'], output: 'json' },
      },
    ],
    [
      ['knp', 'plan', 'workers', '-f', 'new-pool.yaml'],
      { kind: 'run', verb: 'nodepool plan', name: 'workers', flags: { ...base, filename: 'new-pool.yaml' } },
    ],
    [
      ['nodepools', 'pause', 'workers'],
      { kind: 'run', verb: 'nodepool pause', name: 'workers', flags: base },
    ],
    [
      ['nodepool', 'resume', 'workers'],
      { kind: 'run', verb: 'nodepool resume', name: 'workers', flags: base },
    ],
    [
      ['nodepool', 'rollback', 'workers', '--to-revision', 'abc', '--resume'],
      {
        kind: 'run',
        verb: 'nodepool rollback',
        name: 'workers',
        flags: { ...base, toRevision: 'abc', resume: true },
      },
    ],
    [
      ['--context=meta', 'machine', 'describe', 'worker-1', '-ojson'],
      {
        kind: 'run',
        verb: 'machine describe',
        name: 'worker-1',
        flags: { ...base, context: 'meta', output: 'json' },
      },
    ],
    [
      ['machine', 'bootstrap', 'worker-1'],
      { kind: 'run', verb: 'machine bootstrap', name: 'worker-1', flags: base },
    ],
    [
      ['kma', 'bootstrap', 'worker-1', '--ttl', '1h30m', '-o', 'json'],
      {
        kind: 'run',
        verb: 'machine bootstrap',
        name: 'worker-1',
        flags: { ...base, ttlSeconds: 5400, output: 'json' },
      },
    ],
    [[], { kind: 'help' }],
    [['--help'], { kind: 'help' }],
    [['nodepool', '-h'], { kind: 'help', topic: 'nodepool' }],
    [['help'], { kind: 'help' }],
    [['--version'], { kind: 'version' }],
  ])('%j', (argv, expected) => {
    expect(parseCommandLine(argv)).toEqual(expected);
  });

  it.each([
    [['pods', 'list'], 'unknown resource "pods": use cluster, clusterrollout, nodepool, machine or why'],
    [['nodepool'], 'nodepool needs a command (status, plan, pause, resume, rollback)'],
    [
      ['nodepool', 'delete', 'x'],
      'unknown command "nodepool delete": use one of status, plan, pause, resume, rollback',
    ],
    [['nodepool', 'status'], 'nodepool status needs a NAME: kubectl kok nodepool status <name>'],
    [['machine', 'describe', 'a', 'b'], 'machine describe takes one NAME; unexpected: b'],
    [['cluster', 'list', 'x'], 'cluster list takes no arguments; unexpected: x'],
    [['cluster', 'get', 'x', '--watch'], '--watch does not apply to cluster get'],
    [['nodepool', 'pause', 'x', '--to-revision', 'a'], '--to-revision does not apply to nodepool pause'],
    [['cluster', 'get', 'x', '-o', 'wide'], '-o wide is not supported by cluster get: use json or yaml'],
    [['cluster', 'kubeconfig', 'x', '-o', 'json'], '-o does not apply to cluster kubeconfig'],
    [['nodepool', 'status', 'x', '-w', '-o', 'json'], '--watch redraws the text view; leave out -o'],
    [['cluster', 'list', '-A', '-n', 'x'], 'use either -A/--all-namespaces or -n/--namespace, not both'],
    [['machine', 'bootstrap'], 'machine bootstrap needs a NAME: kubectl kok machine bootstrap <name>'],
    [['machine', 'describe', 'x', '--ttl', '1h'], '--ttl does not apply to machine describe'],
    [
      ['machine', 'bootstrap', 'x', '--ttl', 'soon'],
      '--ttl "soon" is not a duration: use e.g. 15m, 1h or 90s',
    ],
    [
      ['machine', 'bootstrap', 'x', '--ttl', '30s'],
      '--ttl 30s is too short: a bootstrap token lives at least 1m',
    ],
    [
      ['machine', 'bootstrap', 'x', '-o', 'wide'],
      '-o wide is not supported by machine bootstrap: use json or yaml',
    ],
    [
      ['cluster', 'backup'],
      'cluster backup needs a NAME: kubectl kok cluster backup <name> (or --all for every Cluster of the namespace)',
    ],
    [['cluster', 'backup', 'prod', '--all'], 'cluster backup takes a NAME or --all/-A, not both'],
    [['cluster', 'backup', 'prod', '-A'], 'cluster backup takes a NAME or --all/-A, not both'],
    [
      ['cluster', 'backup', '--all', '-A', '-n', 'x'],
      'use either -A/--all-namespaces or -n/--namespace, not both',
    ],
    [['cluster', 'backup', 'prod', '-o', 'yaml'], '-o does not apply to cluster backup'],
    [['cluster', 'get', 'prod', '--all'], '--all does not apply to cluster get'],
    [['cluster', 'get', 'prod', '--etcd-snapshot'], '--etcd-snapshot does not apply to cluster get'],
    [
      ['cluster', 'restore', '-f', 'x', '--etcd-snapshot'],
      '--etcd-snapshot does not apply to cluster restore',
    ],
    [
      ['cluster', 'backup', 'prod', '--etcd-snapshot-claim', 'snaps'],
      '--etcd-snapshot-claim does not apply to cluster backup',
    ],
    [
      ['cluster', 'get', 'prod', '--etcd-snapshot-claim', 'snaps'],
      '--etcd-snapshot-claim does not apply to cluster get',
    ],
    [['cluster', 'restore', '--etcd-snapshot-claim', 'snaps'], 'cluster restore needs -f FILE'],
    [
      ['cluster', 'restore', '-f', 'x', '--etcd-snapshot-claim', 'Etcd_Snapshots'],
      '--etcd-snapshot-claim "Etcd_Snapshots" is not a PersistentVolumeClaim name',
    ],
    [
      ['cluster', 'restore', '-f', 'x', '--etcd-snapshot-claim=snaps.'],
      'is not a PersistentVolumeClaim name',
    ],
    [
      ['cluster', 'restore', '-f', 'x', '--etcd-snapshot-claim'],
      "Option '--etcd-snapshot-claim <value>' argument missing",
    ],
    [['cluster', 'restore'], 'cluster restore needs -f FILE: the output of kubectl kok cluster backup'],
    [['cluster', 'restore', 'prod', '-f', 'x'], 'cluster restore takes no arguments; unexpected: prod'],
    [
      ['cluster', 'restore', '-f', 'x', '-n', 'fleet'],
      'cluster restore puts every object back in the namespace the file names',
    ],
    [['cluster', 'list', '-f', 'x'], '--filename does not apply to cluster list'],
    [['nodepool', 'plan', 'workers'], 'nodepool plan needs the proposed spec: either -f FILE'],
    [['nodepool', 'plan', 'workers', '-f', 'x', '--set', 'a=b'], 'nodepool plan needs the proposed spec'],
    [['nodepool', 'status', 'workers', '--set', 'a=b'], '--set does not apply to nodepool status'],
    [['cluster', 'list', '--frobnicate'], "Unknown option '--frobnicate'"],
    [['cluster', 'list', '--context'], "Option '--context <value>' argument missing"],
  ])('%j is refused: %s', (argv, message) => {
    let error: unknown;
    try {
      parseCommandLine(argv);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toContain(message);
    expect((error as UsageError).exitCode).toBe(ExitCode.usage);
  });

  it.each([
    ['15m', 900],
    ['1h', 3600],
    ['90s', 90],
    ['1m', 60],
    ['2h5m10s', 7510],
    ['24h', 86_400],
  ])('--ttl %s is %i s', (text, seconds) => {
    expect(tokenTtlSeconds(text)).toBe(seconds);
  });

  it.each(['', '15', '15min', '1d', 'm', '-5m', '1m30', '5s1m'])('--ttl %j is not a duration', (text) => {
    expect(() => tokenTtlSeconds(text)).toThrow(UsageError);
  });

  it('documents every command in --help, and only the topic asked for', () => {
    const all = helpText();
    for (const verb of Object.keys(VERBS)) expect(all).toContain(verb);
    const nodepool = helpText('nodepool');
    expect(nodepool).toContain('nodepool rollback <name>');
    expect(nodepool).not.toContain('cluster get');
  });

  it('documents --etcd-snapshot as a cluster backup flag', () => {
    expect(helpText()).toMatch(
      /--etcd-snapshot +cluster backup: have the operator snapshot each Cluster's etcd/,
    );
  });

  it('documents --etcd-snapshot-claim as a cluster restore flag', () => {
    expect(helpText()).toMatch(
      /--etcd-snapshot-claim <claim>\n +cluster restore: each Cluster created starts its etcd from the snapshot its backup names/,
    );
  });
});

describe('parseCommandLine: why', () => {
  it.each([
    [['why', 'machine', 'w-1'], 'why machine', 'w-1'],
    [['why', 'kma', 'w-1', '-o', 'json'], 'why machine', 'w-1'],
    [['why', 'nodepools', 'workers'], 'why nodepool', 'workers'],
    [['why', 'cluster', 'prod', '-n', 'fleet'], 'why cluster', 'prod'],
  ])('%j asks why a %s waits', (argv, verb, name) => {
    expect(parseCommandLine(argv)).toMatchObject({ kind: 'run', verb, name });
  });

  it('asks what to explain, and for a name', () => {
    expect(() => parseCommandLine(['why'])).toThrow('why needs a command (machine, nodepool, cluster)');
    expect(() => parseCommandLine(['why', 'pod', 'x'])).toThrow('unknown command "why pod"');
    expect(() => parseCommandLine(['why', 'machine'])).toThrow('why machine needs a NAME');
    expect(helpText('why')).toContain('why nodepool <name>');
  });
});

describe('parseCommandLine: cluster plan and clusterrollout plan', () => {
  it.each([
    [['cluster', 'plan', 'prod', '--version', 'v1.37.0'], 'v1.37.0'],
    [['kcl', 'plan', '--version=v1.36.4', 'prod', '-o', 'json'], 'v1.36.4'],
  ])('%j plans for a version', (argv, targetVersion) => {
    expect(parseCommandLine(argv)).toMatchObject({
      kind: 'run',
      verb: 'cluster plan',
      name: 'prod',
      flags: { targetVersion },
    });
  });

  it('needs the version, and takes it nowhere else', () => {
    expect(() => parseCommandLine(['cluster', 'plan', 'prod'])).toThrow(
      'cluster plan needs the version to plan for',
    );
    expect(() => parseCommandLine(['cluster', 'get', 'prod', '--version', 'v1.37.0'])).toThrow(
      '--version v1.37.0 applies to cluster plan only',
    );
  });

  it.each([
    [['cluster', 'plan', 'prod', '--version']],
    [['kcl', 'plan', '--version', 'prod']],
    [['cluster', 'plan', 'prod', '--version', 'latest']],
  ])('%j without a version is a usage error, not the plugin version', async (argv) => {
    expect(() => parseCommandLine(argv)).toThrow(UsageError);
    expect(() => parseCommandLine(argv)).toThrow('cluster plan --version needs the version to plan for');
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, {
      stdout: (text) => out.push(text),
      stderr: (text) => err.push(text),
      now: () => new Date(0),
      isTty: false,
      signal: new AbortController().signal,
    });
    expect(code).toBe(ExitCode.usage);
    expect(out).toEqual([]);
    expect(err.join('')).toContain('--version v1.37.0');
  });

  it('still prints the plugin version for --version alone', () => {
    expect(parseCommandLine(['--version'])).toEqual({ kind: 'version' });
    expect(parseCommandLine(['--version', 'cluster', 'list'])).toEqual({ kind: 'version' });
  });

  it.each([
    [['clusterrollout', 'plan', 'to-v1-37'], { kind: 'run', verb: 'clusterrollout plan', name: 'to-v1-37' }],
    [
      ['kcr', 'plan', '-f', 'new.yaml'],
      { kind: 'run', verb: 'clusterrollout plan', flags: { filename: 'new.yaml' } },
    ],
    [
      ['clusterrollouts', 'plan', 'to-v1-37', '-f', '-', '-o', 'yaml'],
      {
        kind: 'run',
        verb: 'clusterrollout plan',
        name: 'to-v1-37',
        flags: { filename: '-', output: 'yaml' },
      },
    ],
  ])('%j plans a ClusterRollout', (argv, command) => {
    expect(parseCommandLine(argv)).toMatchObject(command);
  });

  it('needs a NAME or a file for clusterrollout plan', () => {
    expect(() => parseCommandLine(['clusterrollout', 'plan'])).toThrow(
      'clusterrollout plan needs a NAME: kubectl kok clusterrollout plan <name> (or -f FILE with the ClusterRollout)',
    );
    expect(helpText('clusterrollout')).toContain('clusterrollout plan <name>');
    expect(helpText()).toContain('--version <v>');
  });
});
