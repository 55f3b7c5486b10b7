/**
 * `<state-dir>/kok.json`: what a running `kok up` started, written once the
 * stack is up and removed when it stops. `kok status` reads it, and so does
 * anything that drives the stack from outside (the local-stack e2e test).
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodePoolTemplate } from '@kok/api';

export interface StackRecord {
  /** The `kok up` process; everything else of the stack runs under it. */
  readonly pid: number;
  readonly startedAt: string;
  /** Logs, host roots, pod volumes and kubeconfigs. */
  readonly stackDir: string;
  /** Where the Cluster's control plane runs: real containers on real meta-cluster hosts, or local processes. */
  readonly controlPlane: 'containers' | 'processes';
  readonly metaKubeconfigPath: string;
  /** Admin kubeconfig of the biz-cluster, through the local apiserver proxy. */
  readonly bizKubeconfigPath: string;
  /** kubectl and the other control-plane binaries. */
  readonly binDir: string;
  readonly cluster: { readonly namespace: string; readonly name: string };
  readonly pool: string;
  readonly machines: readonly string[];
  readonly hosts: {
    readonly kind: 'real' | 'stand-in';
    readonly where: string;
    /** Oldest first; the pool starts at the first. */
    readonly kubeletVersions: readonly string[];
    /** The pool's template at each kubelet version of the catalog. */
    readonly templates: Readonly<Record<string, NodePoolTemplate>>;
  };
}

export const stackRecordPath = (stateDir: string) => join(stateDir, 'kok.json');

export function writeStackRecord(stateDir: string, record: StackRecord): void {
  // Aside, then renamed: a reader polling for the file never sees half of it.
  const path = stackRecordPath(stateDir);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

export function readStackRecord(stateDir: string): StackRecord | undefined {
  const path = stackRecordPath(stateDir);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as StackRecord) : undefined;
}

export function removeStackRecord(stateDir: string): void {
  rmSync(stackRecordPath(stateDir), { force: true });
}
