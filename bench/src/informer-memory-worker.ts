// One informer flavour in a process of its own, so RSS measures only it.
// argv: <kok-transform|kok-raw|client-node> <kubeconfig> [settle-seconds]; prints one JSON line.
import { CoreV1Api, KubeConfig, makeInformer, type V1Node } from '@kubernetes/client-node';
import { builtinTypes, Informer, KubeClient } from '@kok/reconcile';
import { processUsage } from './process-usage.ts';

const [mode, kubeconfigPath, settleSeconds = '10'] = process.argv.slice(2);
const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(kubeconfigPath as string);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

gc();
const before = process.memoryUsage();
const began = performance.now();
let count: number;
let stop: () => void;

if (mode === 'client-node') {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const informer = makeInformer<V1Node>(kubeConfig, '/api/v1/nodes', () => core.listNode());
  await informer.start();
  count = informer.list().length;
  stop = () => void informer.stop();
} else {
  const informer = new Informer<V1Node>({
    client: new KubeClient(kubeConfig, { qps: 1_000, burst: 1_000 }),
    type: builtinTypes.node,
    ...(mode === 'kok-raw' ? { transform: (node: V1Node) => node } : {}),
  });
  informer.start();
  await informer.waitForSync();
  count = informer.list().length;
  stop = () => void informer.stop();
}
const syncSeconds = (performance.now() - began) / 1000;
// Steady state, not the transient peak of parsing list pages: let V8's memory
// reducer return freed pages to the OS, as it does in a long-running operator.
for (let i = 0; i < Number(settleSeconds); i++) {
  gc();
  await new Promise((resolveSleep) => setTimeout(resolveSleep, 1_000));
}
const after = process.memoryUsage();
console.log(
  JSON.stringify({
    mode,
    objects: count,
    syncSeconds,
    rssMiB: after.rss / 2 ** 20,
    heapUsedMiB: after.heapUsed / 2 ** 20,
    // The kernel's high-water mark: the transient peak of parsing the list, which the steady RSS leaves out.
    peakRssMiB: processUsage('self').peakRssMiB,
    rssDeltaMiB: (after.rss - before.rss) / 2 ** 20,
    heapDeltaMiB: (after.heapUsed - before.heapUsed) / 2 ** 20,
  }),
);
stop();
process.exit(0);
