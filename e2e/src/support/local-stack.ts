/**
 * The local stack as a user starts it: the `kok` bin of apps/kok-local
 * (`kok up`) as a process, its state in a directory of the test's. Once its
 * record (`kok.json`) names the running process, the test gets clients of
 * both clusters and what the record says about the hosts; `stop()` ends it
 * with SIGTERM, as Ctrl-C or `kok down` would.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import type { NodePoolTemplate } from '@kok/api';
import { KubeClient } from '@kok/reconcile';

const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));
/** Where npm links the workspace's bins, and the pinned Node.js the bin runs on. */
const npmBin = join(repositoryRoot, 'node_modules/.bin');

/** The names the demo's printed instructions use. */
export const STACK_NAMESPACE = 'demo';
export const STACK_CLUSTER = 'demo';
export const STACK_POOL = 'workers';

export interface LocalStackOptions {
  /** `kok up --state-dir`: its record, logs and kubeconfigs. */
  readonly stateDir: string;
  readonly machines: number;
  readonly apiServerReplicas: number;
  readonly hosts: 'real' | 'stand-in' | 'auto';
  /** Where the Cluster's control plane runs (`kok up --control-plane`). */
  readonly controlPlane: 'containers' | 'processes' | 'auto';
  /** Each line `kok up` prints. */
  readonly onProgress?: (line: string) => void;
  /** How long `kok up` may take to report the stack up. Default 400 s. */
  readonly timeoutMs?: number;
}

export interface LocalStack {
  /** The `kok up` process. */
  readonly pid: number;
  readonly controlPlane: 'containers' | 'processes';
  /** Every line `kok up` printed so far. */
  readonly output: readonly string[];
  readonly metaKubeconfigPath: string;
  readonly bizKubeconfigPath: string;
  readonly binDir: string;
  readonly meta: KubeClient;
  readonly biz: KubeClient;
  readonly machines: readonly string[];
  readonly hosts: {
    readonly kind: 'real' | 'stand-in';
    readonly kubeletVersions: readonly string[];
    template(kubelet: string): NodePoolTemplate;
  };
  stop(): Promise<void>;
}

/** The part of `kok.json` (apps/kok-local/src/stack-record.ts) this fixture reads. */
interface StackRecord {
  pid: number;
  controlPlane: 'containers' | 'processes';
  metaKubeconfigPath: string;
  bizKubeconfigPath: string;
  binDir: string;
  cluster: { namespace: string; name: string };
  pool: string;
  machines: string[];
  hosts: {
    kind: 'real' | 'stand-in';
    kubeletVersions: string[];
    templates: Record<string, NodePoolTemplate>;
  };
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const child = spawn(
    join(npmBin, 'kok'),
    [
      'up',
      ...['--state-dir', options.stateDir],
      ...['--machines', String(options.machines)],
      ...['--apiserver-replicas', String(options.apiServerReplicas)],
      ...['--hosts', options.hosts],
      ...['--control-plane', options.controlPlane],
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PATH: `${npmBin}:${process.env.PATH ?? ''}` },
    },
  );
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr])
    stream.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter((l) => l.trim() !== '')) {
        output.push(line);
        options.onProgress?.(line);
      }
    });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await exited;
  };

  const recordPath = join(options.stateDir, 'kok.json');
  const deadline = Date.now() + (options.timeoutMs ?? 400_000);
  let record: StackRecord | undefined;
  while (!record) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(
        `kok up exited (${child.exitCode ?? child.signalCode}) before the stack was up:\n${output.slice(-40).join('\n')}`,
      );
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`kok up did not report the stack up in time:\n${output.slice(-40).join('\n')}`);
    }
    if (existsSync(recordPath)) {
      const read = JSON.parse(readFileSync(recordPath, 'utf8')) as StackRecord;
      if (read.pid === child.pid) record = read;
    }
    if (!record) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  if (
    record.cluster.namespace !== STACK_NAMESPACE ||
    record.cluster.name !== STACK_CLUSTER ||
    record.pool !== STACK_POOL
  ) {
    await stop();
    throw new Error(
      `kok up runs Cluster ${record.cluster.namespace}/${record.cluster.name} and NodePool ${record.pool}, not the ones its instructions name`,
    );
  }

  const client = (path: string) => {
    const config = new KubeConfig();
    config.loadFromFile(path);
    return new KubeClient(config);
  };
  const meta = client(record.metaKubeconfigPath);
  const biz = client(record.bizKubeconfigPath);
  const { templates } = record.hosts;
  return {
    pid: record.pid,
    controlPlane: record.controlPlane,
    output,
    metaKubeconfigPath: record.metaKubeconfigPath,
    bizKubeconfigPath: record.bizKubeconfigPath,
    binDir: record.binDir,
    meta,
    biz,
    machines: record.machines,
    hosts: {
      kind: record.hosts.kind,
      kubeletVersions: record.hosts.kubeletVersions,
      template: (kubelet) => {
        const template = templates[kubelet];
        if (!template) throw new Error(`the stack's catalog has no kubelet ${kubelet}`);
        return template;
      },
    },
    stop: async () => {
      meta.close();
      biz.close();
      await stop();
    },
  };
}
