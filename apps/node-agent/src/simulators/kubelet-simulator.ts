/**
 * SIMULATOR, not a kubelet: a stand-in for tests and demos. Once started it
 * registers (or updates) a kwok-managed Node named after the host, keeps
 * status.nodeInfo.kubeletVersion at its own version, and answers /healthz
 * on the port its config file names. SIGHUP re-reads the config.
 *
 *   kubelet-simulator.ts --version v1.36.1 --kubeconfig <file> --node-name <name> --config <file> [--unhealthy]
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { parseArgs } from 'node:util';
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { parse } from 'yaml';

const { values } = parseArgs({
  options: {
    version: { type: 'string' },
    kubeconfig: { type: 'string' },
    'node-name': { type: 'string' },
    config: { type: 'string' },
    unhealthy: { type: 'boolean', default: false },
  },
});
const version = values.version ?? 'v0.0.0';
const nodeName = values['node-name'] ?? process.env['KOK_NODE_NAME'] ?? 'kubelet-simulator';
if (!values.kubeconfig || !values.config) {
  console.error('kubelet-simulator: --kubeconfig and --config are required');
  process.exit(2);
}
const configPath = values.config;
const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(values.kubeconfig);
const core = kubeConfig.makeApiClient(CoreV1Api);

function log(message: string): void {
  console.log(`${new Date().toISOString()} kubelet-simulator ${version} ${nodeName}: ${message}`);
}

let server: Server | undefined;
let port: number | undefined;
function serveHealth(): void {
  const config = (parse(readFileSync(configPath, 'utf8')) ?? {}) as { healthzPort?: number };
  if (config.healthzPort === port) return;
  server?.close();
  port = config.healthzPort;
  server = createServer((_, response) => {
    response
      .writeHead(values.unhealthy ? 500 : 200)
      .end(values.unhealthy ? `unhealthy ${version}` : `ok ${version}`);
  });
  server.listen(port ?? 0, '127.0.0.1', () => log(`healthz on 127.0.0.1:${port}`));
}

async function register(): Promise<void> {
  try {
    await core.readNode({ name: nodeName });
  } catch (error) {
    if ((error as { code?: number }).code !== 404) throw error;
    await core.createNode({
      body: {
        metadata: {
          name: nodeName,
          annotations: { 'kwok.x-k8s.io/node': 'fake' },
          labels: { 'kubernetes.io/hostname': nodeName, 'kubernetes.io/os': 'linux', type: 'kwok' },
        },
      },
    });
    log('registered Node');
  }
}

/** Like a kubelet's status loop: keeps nodeInfo.kubeletVersion at this binary's version. */
async function reportVersion(): Promise<void> {
  const node = await core.readNode({ name: nodeName });
  if (node.status?.nodeInfo?.kubeletVersion === version) return;
  await core.patchNodeStatus(
    { name: nodeName, body: { status: { nodeInfo: { kubeletVersion: version } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  log(`reported kubeletVersion ${version}`);
}

process.on('SIGHUP', () => {
  log('SIGHUP: reloading config');
  serveHealth();
});
process.on('SIGTERM', () => {
  log('SIGTERM: exiting');
  process.exit(0);
});

serveHealth();
for (;;) {
  try {
    await register();
    await reportVersion();
  } catch (error) {
    log(`apiserver: ${(error as Error).message}`);
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
}
