/** The node-operator as a real process, exactly as deployed: `node apps/node-operator/src/main.ts --kubeconfig …`. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const OPERATOR_MAIN = fileURLToPath(new URL('../../../apps/node-operator/src/main.ts', import.meta.url));

export interface OperatorProcessOptions {
  kubeconfigPath: string;
  /** Port of /metrics on 127.0.0.1; fixed so every restarted process is scraped at the same address. */
  metricsPort: number;
  /** File its output is appended to. */
  logFile: string;
}

export function startOperatorProcess(options: OperatorProcessOptions): ChildProcess {
  const log = openSync(options.logFile, 'a');
  const child = spawn(
    process.execPath,
    [
      OPERATOR_MAIN,
      ...['--kubeconfig', options.kubeconfigPath],
      ...['--metrics-bind-address', `127.0.0.1:${options.metricsPort}`],
      // The test scrapes it without a token; only this host reaches 127.0.0.1.
      ...['--metrics-auth', 'none'],
      ...['--log-level', 'warn'],
    ],
    { stdio: ['ignore', log, log] },
  );
  closeSync(log);
  return child;
}
