/**
 * kwok on its own, for a cluster this package did not start (a biz-cluster
 * booted by the local pod runtime, say): it keeps the Nodes annotated for it
 * Ready and their Pods Running, with the same Stages as the control plane's.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBinaries, pinnedVersions } from './binaries.ts';
import { kwokProcessSpec } from './components.ts';
import { freePort } from './free-port.ts';
import { kwokStages } from './kwok-stages.ts';
import { ManagedProcess } from './managed-process.ts';
import { Reaper } from './reaper.ts';

export interface KwokOptions {
  /** Credentials for the cluster; kwok needs to read and write Nodes, their Leases and Pods. */
  readonly kubeconfigPath: string;
  /** Where its config and log go. Default: a new temp dir, removed by stop(). */
  readonly dir?: string;
}

export interface KwokProcess {
  readonly pid: number | undefined;
  readonly logFile: string;
  stop(): Promise<void>;
}

export async function startKwok(options: KwokOptions): Promise<KwokProcess> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'kok-kwok-'));
  const config = join(dir, 'kwok.yaml');
  writeFileSync(config, kwokStages(pinnedVersions().kubernetes));
  const reaper = new Reaper();
  if (ownDir) reaper.watchDirectory(dir);
  const spec = kwokProcessSpec({
    binDir: ensureBinaries(),
    dir,
    kubeconfig: options.kubeconfigPath,
    config,
    port: await freePort(),
  });
  const kwok = new ManagedProcess(spec, reaper);
  const stop = async () => {
    await kwok.stop();
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    reaper.release();
  };
  try {
    await kwok.start();
  } catch (error) {
    await stop();
    throw error;
  }
  return { pid: kwok.pid, logFile: spec.logFile, stop };
}
