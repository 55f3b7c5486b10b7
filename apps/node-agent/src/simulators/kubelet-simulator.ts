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
import { parse } from 'yaml';
import { ApiError, lightKubeClient } from './light-kube-client.ts';

const { values } = parseArgs({
  options: {
    version: { type: 'string' },
    kubeconfig: { type: 'string' },
    'node-name': { type: 'string' },
    config: { type: 'string' },
    unhealthy: { type: 'boolean', default: false },
    // A version that cannot start (a bad config, a missing library): it exits at once, every time.
    'exit-at-start': { type: 'boolean', default: false },
  },
});
if (values['exit-at-start']) {
  console.error('kubelet-simulator: this version exits at start');
  process.exit(1);
}
const version = values.version ?? 'v0.0.0';
const nodeName = values['node-name'] ?? process.env['KOK_NODE_NAME'] ?? 'kubelet-simulator';
if (!values.kubeconfig || !values.config) {
  console.error('kubelet-simulator: --kubeconfig and --config are required');
  process.exit(2);
}
const configPath = values.config;
const api = lightKubeClient(values.kubeconfig);
const nodePath = `/api/v1/nodes/${encodeURIComponent(nodeName)}`;
interface NodeView {
  status?: { nodeInfo?: { kubeletVersion?: string } };
}

function log(message: string): void {
  console.log(`${new Date().toISOString()} kubelet-simulator ${version} ${nodeName}: ${message}`);
}

let server: Server | undefined;
let port: number | undefined;
/** Serves /healthz on the config's port; a config it cannot read or a port it cannot bind is retried, not fatal. */
function serveHealth(): void {
  let config: { healthzPort?: number };
  try {
    config = (parse(readFileSync(configPath, 'utf8')) ?? {}) as { healthzPort?: number };
  } catch (error) {
    log(`config ${configPath}: ${(error as Error).message}; reading it again in 1 s`);
    setTimeout(serveHealth, 1000);
    return;
  }
  if (config.healthzPort === port) return;
  server?.close();
  port = config.healthzPort;
  const serving = createServer((_, response) => {
    response
      .writeHead(values.unhealthy ? 500 : 200)
      .end(values.unhealthy ? `unhealthy ${version}` : `ok ${version}`);
  });
  serving.once('error', (error) => {
    log(`healthz on 127.0.0.1:${port}: ${error.message}; trying again in 1 s`);
    port = undefined;
    setTimeout(serveHealth, 1000);
  });
  serving.listen(port ?? 0, '127.0.0.1', () => log(`healthz on 127.0.0.1:${port}`));
  server = serving;
}

/** The Node, registered first when it does not exist yet. */
async function register(): Promise<NodeView> {
  try {
    return await api.request<NodeView>('GET', nodePath);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
    const node = await api.request<NodeView>('POST', '/api/v1/nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: nodeName,
        annotations: { 'kwok.x-k8s.io/node': 'fake' },
        labels: { 'kubernetes.io/hostname': nodeName, 'kubernetes.io/os': 'linux', type: 'kwok' },
      },
    });
    log('registered Node');
    return node;
  }
}

/** Like a kubelet's status loop: keeps nodeInfo.kubeletVersion at this binary's version. */
async function reportVersion(node: NodeView): Promise<void> {
  if (node.status?.nodeInfo?.kubeletVersion === version) return;
  await api.request(
    'PATCH',
    `${nodePath}/status`,
    { status: { nodeInfo: { kubeletVersion: version } } },
    'application/merge-patch+json',
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
    await reportVersion(await register());
  } catch (error) {
    log(`apiserver: ${(error as Error).message}`);
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
}
