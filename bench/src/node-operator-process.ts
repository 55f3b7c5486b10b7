// The node-operator as shipped (its main, the chart's NODE_OPTIONS), started for a benchmark that measures it.
import { spawn, type ChildProcess } from 'node:child_process';
import { chartNodeOptions } from './chart-node-options.ts';

const main = new URL('../../apps/node-operator/src/main.ts', import.meta.url).pathname;

/** The NODE_OPTIONS the chart gives the operator's container. */
export const operatorNodeOptions = chartNodeOptions('node-operator');

export interface BenchOperator {
  process: ChildProcess;
  /** Its /metrics text; empty while it does not answer. */
  metrics: () => Promise<string>;
}

/**
 * Starts the operator on `kubeconfigPath` with /metrics on 127.0.0.1:`port` (no token: only this host
 * reaches it) and warn logs. `nodeArgs` go to Node.js (e.g. --cpu-prof), `operatorArgs` to the operator.
 */
export function spawnNodeOperator(
  kubeconfigPath: string,
  port: number,
  {
    nodeArgs = [],
    operatorArgs = [],
  }: { nodeArgs?: readonly string[]; operatorArgs?: readonly string[] } = {},
): BenchOperator {
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      main,
      '--kubeconfig',
      kubeconfigPath,
      '--metrics-bind-address',
      `127.0.0.1:${port}`,
      '--metrics-auth',
      'none',
      '--log-level',
      'warn',
      ...operatorArgs,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NODE_OPTIONS: operatorNodeOptions } },
  );
  const metrics = async (): Promise<string> => {
    try {
      return await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    } catch {
      return '';
    }
  };
  return { process: child, metrics };
}
