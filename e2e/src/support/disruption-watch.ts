/**
 * Watches the budget from two sides at once, every 200 ms: the API (Nodes and
 * Machines, judged by the design's definition of "disrupted") and the
 * operator's own `kok_nodepool_disrupted_machines` metric. Remembers the
 * worst each side ever saw.
 */
import type { Machine } from '@kok/api';
import { machineType } from '@kok/api';
import { builtinTypes, nameOf } from '@kok/reconcile';
import type { KubeClient } from '@kok/reconcile';
import { disruptedMachines } from '../../../apps/node-operator/src/test-support/invariant-poller.ts';

/** The value of `kok_nodepool_disrupted_machines{pool="<pool>"}` in a Prometheus text exposition, if present. */
export function disruptedMetric(exposition: string, pool: string): number | undefined {
  for (const line of exposition.split('\n')) {
    if (!line.startsWith('kok_nodepool_disrupted_machines{')) continue;
    if (!line.includes(`pool="${pool}"`)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) return value;
  }
  return undefined;
}

export class DisruptionWatch {
  readonly #client: KubeClient;
  readonly #machines: ReadonlySet<string>;
  readonly #pool: string;
  readonly #metricsUrl: string;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  /** API samples taken and the most machines disrupted at once among them. */
  apiSamples = 0;
  apiMax = 0;
  apiWorst: string[] = [];
  /** Metric scrapes that answered (none while the operator is down) and the highest value. */
  metricSamples = 0;
  metricMax = 0;

  constructor(client: KubeClient, pool: string, machines: readonly string[], metricsUrl: string) {
    this.#client = client;
    this.#pool = pool;
    this.#machines = new Set(machines);
    this.#metricsUrl = metricsUrl;
  }

  start(): this {
    this.#timer = setInterval(() => void this.#sample(), 200);
    return this;
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  describe(): string {
    return `API: max ${this.apiMax} in ${this.apiSamples} samples (${this.apiWorst.join(', ')}); metric: max ${this.metricMax} in ${this.metricSamples} scrapes`;
  }

  async #sample(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      await Promise.all([this.#sampleApi(), this.#scrape()]);
    } finally {
      this.#busy = false;
    }
  }

  async #sampleApi(): Promise<void> {
    try {
      // Nodes first: a disruption starts before and ends after anything the Machine shows, so the
      // few ms between the two lists cannot hide one.
      const nodes = (await this.#client.list(builtinTypes.node)).items.filter((n) =>
        this.#machines.has(nameOf(n)),
      );
      const machines: Machine[] = (await this.#client.list(machineType)).items.filter((m) =>
        this.#machines.has(nameOf(m)),
      );
      const disrupted = disruptedMachines(machines, nodes);
      this.apiSamples++;
      if (disrupted.length > this.apiMax) {
        this.apiMax = disrupted.length;
        this.apiWorst = disrupted;
      }
    } catch {
      // A failed sample is skipped.
    }
  }

  async #scrape(): Promise<void> {
    try {
      const response = await fetch(this.#metricsUrl, { signal: AbortSignal.timeout(1000) });
      const value = disruptedMetric(await response.text(), this.#pool);
      if (value === undefined) return;
      this.metricSamples++;
      this.metricMax = Math.max(this.metricMax, value);
    } catch {
      // The operator is down (killed on purpose) or busy: nothing to read.
    }
  }
}
