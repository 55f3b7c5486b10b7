// Hosts several node agents in one process (used when one process per agent does not fit):
//   node agent-fleet-worker.ts <kubeconfig> <roots-dir> <heartbeat-seconds> <machine>...
// Each agent has its own root, client, watches and supervisor, exactly as in its own process.
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the benchmark runs the agent app itself
import { NodeAgent } from '@kok/node-agent/src/agent/node-agent.ts';

const [kubeconfig, rootsDir, heartbeatSeconds, ...machines] = process.argv.slice(2);
if (!kubeconfig || !rootsDir || !heartbeatSeconds || machines.length === 0)
  throw new Error('usage: <kubeconfig> <roots-dir> <heartbeat-seconds> <machine>...');
const agents = machines.map((machine) => {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfig);
  return new NodeAgent({
    machineName: machine,
    kubeConfig,
    root: join(rootsDir, machine),
    serviceManager: 'supervisor',
    heartbeatIntervalMs: Number(heartbeatSeconds) * 1000,
    logger: pino({ level: 'warn' }),
  });
});
process.once('SIGTERM', () => void Promise.all(agents.map((a) => a.stop())).then(() => process.exit(0)));
await Promise.all(agents.map((a) => a.start()));
