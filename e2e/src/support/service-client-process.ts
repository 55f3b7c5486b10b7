/**
 * Starts service-client.ts in a network namespace (`ip netns exec`) and collects the rounds it prints:
 * a client that reaches a biz apiserver only as a pod of the meta-cluster would, through its Service.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** What the client dials and who it is; the credentials base64-encoded PEM, as a kubeconfig holds them. */
export interface ServiceClientTarget {
  host: string;
  port: number;
  /** The name the apiserver's certificate is checked against. */
  serverName: string;
  caData: string;
  certData: string;
  keyData: string;
  /** The ConfigMaps' name prefix. */
  name: string;
  pauseMs: number;
  retryAfterMs: number;
}

/** One round, as the client prints it. */
export interface ServiceClientRound {
  round: number;
  /** gitVersion of the apiserver that answered /version. */
  version?: string;
  /** Why the first attempt failed, when it was retried. */
  retriedAfter?: string;
  /** Why the round failed after its retry. */
  error?: string;
  milliseconds: number;
}

export interface ServiceClient {
  /** Every round so far, in order. */
  readonly rounds: readonly ServiceClientRound[];
  /** Ends it after the round under way and waits for it to exit. */
  stop(): Promise<void>;
}

const script = join(dirname(fileURLToPath(import.meta.url)), 'service-client.ts');

/** `targetFile` is written here (it holds the credentials): a file of the caller's scratch directory. */
export function startServiceClient(
  namespace: string,
  target: ServiceClientTarget,
  targetFile: string,
): ServiceClient {
  writeFileSync(targetFile, JSON.stringify(target), { mode: 0o600 });
  const child: ChildProcess = spawn(
    'ip',
    ['netns', 'exec', namespace, process.execPath, script, targetFile],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const rounds: ServiceClientRound[] = [];
  let stderr = '';
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) =>
    rounds.push(JSON.parse(line) as ServiceClientRound),
  );
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  // 'close': its output read to the end, not only its exit.
  const closed = new Promise<number | null>((done) => child.once('close', (code) => done(code)));
  return {
    rounds,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const code = await closed;
      if (code !== 0) throw new Error(`the service client exited with ${String(code)}: ${stderr}`);
    },
  };
}
