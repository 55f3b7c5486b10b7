/**
 * kube-on-kube-operator: runs every Cluster's control plane as workloads in
 * this meta-cluster. `node src/main.ts --help` lists the flags.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { parseFlags, USAGE } from './flags.ts';
import { createOperator } from './operator.ts';

async function main(): Promise<void> {
  let flags;
  try {
    flags = parseFlags(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (flags.help) {
    process.stdout.write(USAGE);
    return;
  }
  const logger = pino({ level: flags.logLevel, base: { app: 'kube-on-kube-operator' } });
  const kubeConfig = new KubeConfig();
  if (flags.kubeconfig) kubeConfig.loadFromFile(flags.kubeconfig);
  else kubeConfig.loadFromDefault();
  const manager = createOperator({
    kubeConfig,
    logger,
    http: flags.metricsBindAddress && {
      ...flags.metricsBindAddress,
      authorizeMetrics: flags.metricsAuth === 'kubernetes',
    },
    progressDeadlineMs: flags.progressDeadlineSeconds * 1000,
    maxConcurrentReconciles: flags.maxConcurrentReconciles,
    bizApiServerDial: flags.bizApiServerDial,
    etcdDial: flags.etcdDial,
    ...(flags.etcdSnapshotDir ? { etcdSnapshotDir: flags.etcdSnapshotDir } : {}),
    imageDigests: flags.imageDigests,
    pki: {
      ...(flags.leafCertificateValiditySeconds
        ? { leafValiditySeconds: flags.leafCertificateValiditySeconds }
        : {}),
      ...(flags.certificateRenewBeforeSeconds
        ? { renewBeforeSeconds: flags.certificateRenewBeforeSeconds }
        : {}),
    },
    ...(flags.namespace ? { namespace: flags.namespace } : {}),
    ...(flags.leaderElect ? { leaderElectionNamespace: flags.leaderElectionNamespace } : {}),
  });
  manager.stopOnSignals();
  logger.info(
    {
      namespace: flags.namespace ?? '(all)',
      leaderElect: flags.leaderElect,
      metricsAuth: flags.metricsAuth,
      imagesPinnedByDigest: [...flags.imageDigests.keys()],
      server: kubeConfig.getCurrentCluster()?.server,
    },
    'starting',
  );
  await manager.start();
  logger.info({ metrics: manager.address() ?? 'off' }, 'running');
  await manager.done();
  logger.info('stopped');
  // Exit even if a handle (a metrics timer, a socket) would keep the event loop alive; without the lease, an error.
  process.exit(manager.leadershipLost ? 1 : 0);
}

main().catch((error: unknown) => {
  process.stderr.write(`kube-on-kube-operator: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
