/** The node agent process: `node src/main.ts --machine <name> [--root <dir>] …` (see flags.ts). */
import { hostname } from 'node:os';
import { KubeClient, KubeconfigFile, MetricsAccessReview } from '@kok/reconcile';
import { pino } from 'pino';
// Bundled into the shipped module, so the agent's version travels with it.
import agentPackage from '../package.json' with { type: 'json' };
import { AgentCredential } from './agent-credential.ts';
import { AgentMetrics } from './agent-metrics.ts';
import { NodeAgent } from './agent/node-agent.ts';
import { parseFlags, USAGE, wantsHelp } from './flags.ts';
import { HostOwnership } from './host-ownership.ts';
import { hostPaths } from './host-paths.ts';
import { serveHttp } from './http-server.ts';
import { reexecWithSmallFootprint } from './process-footprint.ts';

async function main(): Promise<void> {
  if (wantsHelp(process.argv.slice(2))) {
    process.stdout.write(USAGE);
    return;
  }
  reexecWithSmallFootprint();
  let flags;
  try {
    flags = parseFlags(process.argv.slice(2), process.env, hostname());
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  const log = pino({ level: flags.logLevel });
  const stopping = new AbortController();
  let kubeConfig: KubeconfigFile;
  if (flags.bootstrapKubeconfig && flags.kubeconfig) {
    const credential = new AgentCredential({
      machine: flags.machine,
      kubeconfigPath: flags.kubeconfig,
      bootstrapKubeconfigPath: flags.bootstrapKubeconfig,
      certificateSeconds: flags.certificateSeconds,
      log,
    });
    // Until the certificate is issued, a signal ends the wait (and the process) at once.
    const early = (signal: string) => {
      log.info({ signal }, 'stopping before the agent had a certificate');
      process.exit(0);
    };
    process.once('SIGTERM', early).once('SIGINT', early);
    kubeConfig = await credential.obtain(stopping.signal);
    process.off('SIGTERM', early).off('SIGINT', early);
    credential.keepRenewed(kubeConfig, stopping.signal);
  } else if (flags.kubeconfig) kubeConfig = KubeconfigFile.load(flags.kubeconfig);
  else kubeConfig = KubeconfigFile.inCluster();
  const { version } = agentPackage;
  const metrics = new AgentMetrics();
  const newAgent = () =>
    new NodeAgent({
      machineName: flags.machine,
      kubeConfig,
      root: flags.root,
      rootOnHost: flags.rootOnHost,
      enterHostNamespaces: flags.enterHostNamespaces,
      serviceManager: flags.serviceManager,
      keepVersions: flags.keepVersions,
      heartbeatIntervalMs: flags.heartbeatSeconds * 1000,
      resyncIntervalMs: flags.resyncSeconds * 1000,
      agentVersion: version,
      rebootCommand: flags.rebootCommand,
      logger: log,
      metrics,
    });
  let current: NodeAgent | undefined;
  // Waiting for the host (another agent holds it) is this process doing its job: healthy.
  const served = { log, metrics, isHealthy: () => current?.isHealthy() ?? true };
  // Two small requests per scraper and cache period (TokenReview, SubjectAccessReview), on a client of its own.
  const metricsAccess =
    flags.metricsAuth === 'kubernetes'
      ? new MetricsAccessReview(new KubeClient(kubeConfig, { userAgent: 'kok-node-agent', qps: 2, burst: 4 }))
      : undefined;
  const server = await serveHttp(served, flags.httpHost, flags.httpPort, metricsAccess);
  const address = server.address();
  log.info(
    {
      machine: flags.machine,
      root: flags.root,
      rootOnHost: flags.rootOnHost,
      enterHostNamespaces: flags.enterHostNamespaces,
      http: address,
      metricsAuth: flags.metricsAuth,
    },
    'node agent starting',
  );
  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down; services keep running');
    stopping.abort();
    void Promise.all([current?.stop(), new Promise((resolve) => server.close(resolve))]).then(() =>
      process.exit(0),
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  const ownership = new HostOwnership({
    runDir: hostPaths(flags.root).runDir,
    takesOver: flags.enterHostNamespaces,
    log,
  });
  // One agent converges the host at a time (host-ownership.ts): hold it, converge, and stand by when taken over.
  while (await ownership.acquire(stopping.signal)) {
    const agent = newAgent();
    current = agent;
    await agent.start();
    await ownership.lost(stopping.signal);
    if (stopping.signal.aborted) return;
    current = undefined;
    await agent.stop();
    await ownership.standBy();
  }
}

await main();
