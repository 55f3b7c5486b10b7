// Work-queue throughput: adds per second when 90% of adds are duplicates of
// pending keys, with 1 and 8 workers draining concurrently; median of 5.
// Baseline in the same run: the bare data-structure cost (a Set plus an array,
// deduplicating but with none of the queue's guarantees).
//   --adds=<n>  adds per run (default 1000000)   --runs=<n>  runs per figure (default 5)
import { WorkQueue } from '@kok/reconcile';
import { setImmediate as yieldToWorkers } from 'node:timers/promises';
import { median, round } from './statistics.ts';

const flag = (name: string, fallback: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const addsPerRun = flag('adds', 1_000_000);
const batch = 10_000;
const runs = flag('runs', 5);

/** A key sequence in which 9 of 10 adds repeat a key added recently (likely still pending). */
function keySequence(count: number): string[] {
  const keys: string[] = [];
  let fresh = 0;
  for (let i = 0; i < count; i++) {
    if (i % 10 === 0 || fresh === 0) keys.push(`ns/object-${fresh++}`);
    else keys.push(`ns/object-${Math.max(0, fresh - 1 - ((i * 7919) % 64))}`);
  }
  return keys;
}

async function queueAddsPerSecond(keys: readonly string[], workers: number): Promise<number> {
  const queue = new WorkQueue<string>();
  let processed = 0;
  const worker = async () => {
    for (;;) {
      const next = await queue.get();
      if (next.shutdown) return;
      processed++;
      queue.done(next.item);
    }
  };
  const running = Array.from({ length: workers }, worker);
  const began = performance.now();
  for (let i = 0; i < keys.length; i += batch) {
    for (let j = i; j < Math.min(i + batch, keys.length); j++) queue.add(keys[j] as string);
    await yieldToWorkers(); // let the workers drain, as a controller's event loop would
  }
  const seconds = (performance.now() - began) / 1000;
  await queue.shutDownWithDrain();
  await Promise.all(running);
  if (processed === 0) throw new Error('workers processed nothing');
  return keys.length / seconds;
}

function baselineAddsPerSecond(keys: readonly string[]): number {
  const pending = new Set<string>();
  const order: string[] = [];
  let head = 0;
  const began = performance.now();
  for (const key of keys) {
    if (pending.has(key)) continue;
    pending.add(key);
    order.push(key);
    // Drain like the workers do, so the pending set stays as small as the queue's.
    if (order.length - head > batch) pending.delete(order[head++] as string);
  }
  return keys.length / ((performance.now() - began) / 1000);
}

const keys = keySequence(addsPerRun);
const measure = async (workers: number) => {
  const samples: number[] = [];
  for (let run = 0; run < runs; run++) samples.push(await queueAddsPerSecond(keys, workers));
  return samples;
};
await measure(1); // warm-up: JIT
const oneWorker = await measure(1);
const eightWorkers = await measure(8);
const baseline = Array.from({ length: runs }, () => baselineAddsPerSecond(keys));

console.log(
  JSON.stringify({
    benchmark: 'workqueue',
    addsPerRun,
    duplicateShare: 0.9,
    runs,
    addsPerSecondMedian1Worker: Math.round(median(oneWorker)),
    addsPerSecondMedian8Workers: Math.round(median(eightWorkers)),
    baselineSetArrayAddsPerSecondMedian: Math.round(median(baseline)),
    queueVsBaseline1Worker: round(median(oneWorker) / median(baseline)),
    target: { addsPerSecond: 500_000 },
  }),
);
