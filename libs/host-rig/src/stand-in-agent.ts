/**
 * For tests of what runs on real hosts rather than of the node-agent (whose own suite boots hosts with
 * the real agent): a stand-in that installs on a host what the agent would, from the same catalog and
 * pool template — the binaries where the Components put them, the template's files, each image
 * Component imported with its own command (and any further image tarballs beside them) — then runs
 * containerd and the kubelet with their service commands. It takes seconds where the agent's
 * convergence takes tens of them, and leaves the agent's behaviour to the agent's tests.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ComponentSpec } from '@kok/api';
import type { HostBinaries } from './host-binaries.ts';
import type { TemplateOptions } from './node-software.ts';
import { COMPONENT_NAMES, NODE_PATHS, realHostTemplate } from './node-software.ts';
import type { RealHostCluster } from './real-host-cluster.ts';

/** The agent command for the rig: it appends `--root <root>`, and the stand-in runs the script written there. */
export const STAND_IN_AGENT_COMMAND: readonly string[] = [
  'sh',
  '-c',
  'while [ $# -gt 0 ]; do [ "$1" = --root ] && root=$2; shift; done; exec sh "$root/stand-in.sh"',
  'stand-in-agent',
];

export interface StandInHost {
  readonly name: string;
  readonly address: string;
  /** The template's options beyond what the cluster's software fixes (kubelet, containerd, images, cgroup). */
  readonly template: Pick<TemplateOptions, 'kubeProxy' | 'coreDns' | 'clusterDNS'>;
  /** OCI image tarballs imported beside the image Components, with their import command. */
  readonly extraImages?: readonly string[];
}

/** The command with the host's variables filled in, quoted for sh. */
function shellCommand(command: readonly string[], vars: Readonly<Record<string, string>>): string {
  return command
    .map((arg) => arg.replace(/\$\((KOK_[A-Z_]+)\)/g, (whole, name: string) => vars[name] ?? whole))
    .map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`)
    .join(' ');
}

/**
 * Writes what the agent would install on `host` of `cluster` (its newest kubelet, its first containerd)
 * and the stand-in script that starts it; `cluster.addHost(host.name)` then boots it.
 */
export function provisionStandInHost(
  cluster: RealHostCluster,
  binaries: HostBinaries,
  host: StandInHost,
): void {
  const root = join(cluster.rig.dir, 'hosts', host.name);
  const vars: Record<string, string> = {
    KOK_ROOT: root,
    KOK_NODE_NAME: host.name,
    KOK_NODE_IP: host.address,
  };
  const fill = (text: string) =>
    text.replace(/\$\((KOK_[A-Z_]+)\)/g, (whole, name: string) => vars[name] ?? whole);
  const component = (key: string): ComponentSpec => {
    const spec = cluster.software.components[key];
    if (!spec) throw new Error(`no Component ${key}`);
    return spec;
  };
  const kubelet = cluster.versions.kubelet.at(-1) as string;
  const template = realHostTemplate({
    ...host.template,
    kubelet,
    containerd: cluster.versions.containerd[0] as string,
    imageVersions: cluster.software.imageVersions,
    cgroupParent: cluster.rig.cgroupParent,
  });
  for (const file of template.files ?? []) {
    const path = join(root, file.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, fill(file.content ?? ''), { mode: file.mode });
  }
  // The binaries, where the Archive and Binary installs put them.
  const install = (name: string, version: string, file: string, at: string) => {
    const path = join(root, at);
    mkdirSync(dirname(path), { recursive: true });
    copyFileSync(binaries.path(name, version, file), path);
  };
  const containerd = template.components?.find((c) => c.name === COMPONENT_NAMES.containerd)
    ?.version as string;
  for (const file of ['containerd', 'ctr', 'containerd-shim-runc-v2'])
    install('containerd', containerd, file, join(NODE_PATHS.containerd, file));
  install('kubelet', kubelet, 'kubelet', NODE_PATHS.kubelet);
  const importCommand = (spec: ComponentSpec) =>
    spec.install.method === 'Image' ? (spec.install.importCommand ?? []) : [];
  const imageComponents = (template.components ?? [])
    .map((wanted) => ({ wanted, spec: component(wanted.name) }))
    .filter(({ spec }) => spec.install.method === 'Image');
  const imports = [
    // Every image Component of the template, imported with its own command from the served artifact.
    ...imageComponents.map(({ wanted, spec }) => {
      const artifact = spec.versions.find((v) => v.version === wanted.version)?.artifact;
      const file = join(cluster.rig.dir, 'artifacts', artifact?.url.split('/').pop() ?? '');
      return shellCommand(importCommand(spec), { ...vars, KOK_ARTIFACT: file });
    }),
    ...(host.extraImages ?? []).map((file) =>
      shellCommand(importCommand(imageComponents[0]?.spec as ComponentSpec), { ...vars, KOK_ARTIFACT: file }),
    ),
  ];
  const containerdService = component(COMPONENT_NAMES.containerd).service;
  const kubeletService = component(COMPONENT_NAMES.kubelet).service;
  if (containerdService?.type !== 'Process' || kubeletService?.type !== 'Process')
    throw new Error('containerd and the kubelet run as processes');
  const ctr = `'${join(root, NODE_PATHS.containerd, 'ctr')}' --address '${root}/run/containerd/containerd.sock'`;
  writeFileSync(
    join(root, 'stand-in.sh'),
    [
      'set -e',
      `${shellCommand(containerdService.command ?? [], vars)} > '${root}/containerd.log' 2>&1 &`,
      `for i in $(seq 1 100); do ${ctr} version > /dev/null 2>&1 && break; sleep 0.1; done`,
      ...imports,
      `exec ${shellCommand(kubeletService.command ?? [], vars)} > '${root}/kubelet.log' 2>&1`,
    ].join('\n'),
  );
}
