import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { InstructionsInput } from './instructions.ts';
import { pathExportLine, upInstructions } from './instructions.ts';

const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));
const pinnedBin = join(repositoryRoot, 'node_modules/.bin');

const input: InstructionsInput = {
  repositoryRoot,
  binDir: '/cache/control-plane/bin',
  metaKubeconfigPath: '/state/stack/meta.kubeconfig',
  bizKubeconfigPath: '/state/stack/biz.kubeconfig',
  namespace: 'demo',
  cluster: 'demo',
  pool: 'workers',
  stateDir: '/state/stack',
  controlPlane: 'processes',
  etcdSnapshotDir: '/state/stack/etcd-snapshots',
  logsWhere: '/state/stack/*.log, pods under runtime/pods/',
  hostsWhere: 'stand-in hosts under /state/stack/hosts',
  kubeletVersions: ['v1.36.1', 'v1.36.2'],
  template: (kubelet) => ({
    components: [
      { name: 'containerd', version: '1.7.21' },
      { name: 'kubelet', version: kubelet },
    ],
  }),
  seconds: '42.0',
};

/** The directories of the `export PATH=…` line the instructions print, in order. */
function printedPath(text: string): string[] {
  const line = text.split('\n').find((l) => l.trim().startsWith('export PATH='));
  if (!line) throw new Error(`no export PATH line in:\n${text}`);
  return line.trim().slice('export PATH='.length).split(':');
}

describe('the printed instructions', () => {
  it("put the repository's pinned Node.js first on PATH, then kubectl, then the PATH there was", () => {
    expect(printedPath(upInstructions(input))).toEqual([pinnedBin, input.binDir, '$PATH']);
  });

  it('give a PATH on which node is the pinned Node.js 24 and kubectl-kok is found, even after a system Node.js 20', () => {
    // As pasted into a shell whose PATH finds the system's node first.
    const shell = `${pathExportLine(repositoryRoot, input.binDir)}; node --version; command -v kubectl-kok`;
    const [version, plugin] = execFileSync('sh', ['-c', shell], {
      env: { PATH: '/usr/local/bin:/usr/bin:/bin' },
      encoding: 'utf8',
    })
      .trim()
      .split('\n');
    expect(Number(/^v(\d+)\./.exec(version ?? '')?.[1])).toBeGreaterThanOrEqual(24);
    expect(plugin).toBe(join(pinnedBin, 'kubectl-kok'));
  });

  it("patch the pool's kubelet entry to the next version of the catalog", () => {
    const patch = /-p '(.*)'/.exec(upInstructions(input))?.[1];
    expect(JSON.parse(patch ?? 'null')).toEqual([
      { op: 'replace', path: '/spec/template/components/1/version', value: 'v1.36.2' },
    ]);
  });

  it('say where the etcd snapshots are and how to take one now', () => {
    const text = upInstructions(input);
    expect(text).toContain('/state/stack/etcd-snapshots/demo/demo');
    expect(text).toContain(
      'annotate cluster demo -n demo clusters.kok.dev/etcd-snapshot-request=$(date +%s) --overwrite',
    );
  });

  it('point `kok status` and `kok down` at the state directory `kok up` was given', () => {
    expect(upInstructions(input)).toContain(
      '`npx kok status`. Stop: Ctrl-C here, or `npx kok down` (`npm run kok:stop`)',
    );
    const elsewhere = upInstructions({ ...input, stateDirOption: '--state-dir /tmp/demo' });
    expect(elsewhere).toContain('`npx kok status --state-dir /tmp/demo`');
    expect(elsewhere).toContain('`npx kok down --state-dir /tmp/demo` from another terminal');
  });

  it('name the kubeconfigs, the Cluster and the pool they act on', () => {
    const text = upInstructions(input);
    expect(text).toContain(`kubectl --kubeconfig ${input.metaKubeconfigPath} get clusters -A`);
    expect(text).toContain(`kubectl kok --kubeconfig ${input.bizKubeconfigPath} nodepool status workers`);
    expect(text).toContain('kubectl kok --kubeconfig /state/stack/meta.kubeconfig cluster get demo -n demo');
  });

  it('say where the control plane runs, and offer etcd snapshots only where the operator writes them', () => {
    const processes = upInstructions(input);
    expect(processes).toContain('the control plane of "demo" runs as local processes');
    expect(processes).toContain('in /state/stack/etcd-snapshots/demo/demo); one now:');
    const { etcdSnapshotDir: _, ...withoutSnapshots } = input;
    const containers = upInstructions({
      ...withoutSnapshots,
      controlPlane: 'containers',
      logsWhere: "the meta hosts' pod logs under /rig/hosts",
    });
    expect(containers).toContain(
      'the control plane of "demo" runs as real containers on the meta-cluster\'s real hosts',
    );
    expect(containers).not.toContain('etcd snapshots');
    expect(containers).toContain("Logs: the meta hosts' pod logs under /rig/hosts; stand-in hosts under");
  });
});
