import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { parseCommandLine, USAGE, wantsHelp } from './command-line.ts';
import { createOperator } from './operator.ts';

/** `node src/main.ts --kubeconfig … [--leader-elect] [--metrics-bind-address :8080]` */
async function main(): Promise<void> {
  if (wantsHelp(process.argv.slice(2))) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  let options;
  try {
    options = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  const logger = pino({ level: options.logLevel, base: { app: 'node-operator' } });
  const kubeConfig = new KubeConfig();
  if (options.kubeconfig) kubeConfig.loadFromFile(options.kubeconfig);
  else kubeConfig.loadFromDefault();

  const manager = await createOperator({
    kubeConfig,
    leaderElect: options.leaderElect,
    namespace: options.namespace,
    http: { ...options.metricsBindAddress, authorizeMetrics: options.metricsAuth === 'kubernetes' },
    revisionHistoryLimit: options.revisionHistoryLimit,
    stormCooldownMs: options.stormCooldownMs,
    qps: options.qps,
    burst: options.burst,
    maxQps: options.maxQps,
    logger,
    ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}),
  });
  manager.stopOnSignals();
  await manager.start();
  logger.info({ address: manager.address() }, 'node-operator running');
  await manager.done();
  // Exit even if a handle (a metrics timer, a socket) would keep the event loop alive; without the lease, an error.
  process.exit(manager.leadershipLost ? 1 : 0);
}

main().catch((error: unknown) => {
  process.stderr.write(`node-operator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
