import type { Machine } from '@kok/api';
import { builtinTypes } from '@kok/reconcile';
import type { KubeClient } from '@kok/reconcile';
import type { V1Node } from '@kubernetes/client-node';
import { machineType } from '../shared/resources.ts';

/**
 * Disrupted by kok, as the design defines it, judged from the API alone: the
 * Node is cordoned, NotReady or missing, or the Machine is told a revision it
 * does not run yet, or it reports a failure.
 */
export function disruptedMachines(machines: readonly Machine[], nodes: readonly V1Node[]): string[] {
  const nodeByName = new Map(nodes.map((n) => [n.metadata?.name ?? '', n]));
  return machines
    .filter((machine) => {
      const node = nodeByName.get(machine.metadata?.name ?? '');
      const ready = node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
      const failed = (machine.status?.components ?? []).some((c) => c.state === 'Failed');
      return (
        !ready ||
        node?.spec?.unschedulable === true ||
        machine.spec?.revision !== machine.status?.revision?.current ||
        failed
      );
    })
    .map((machine) => machine.metadata?.name ?? '');
}

/** Samples the fleet every `intervalMs` and remembers the most machines it ever saw disrupted at once. */
export class InvariantPoller {
  readonly #client: KubeClient;
  readonly #selector: string;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  samples = 0;
  maxDisrupted = 0;
  worst: string[] = [];

  constructor(client: KubeClient, selector: string, intervalMs = 200) {
    this.#client = client;
    this.#selector = selector;
    this.#intervalMs = intervalMs;
  }

  start(): this {
    this.#timer = setInterval(() => void this.#sample(), this.#intervalMs);
    return this;
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #sample(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      // Two lists are two instants a few ms apart; a machine's disruption starts with its cordon and ends
      // with its uncordon, so reading Nodes first cannot miss one that spans the sample.
      const nodes = (await this.#client.list(builtinTypes.node, { labelSelector: this.#selector })).items;
      const machines = (await this.#client.list(machineType, { labelSelector: this.#selector })).items;
      const disrupted = disruptedMachines(machines, nodes);
      this.samples++;
      if (disrupted.length > this.maxDisrupted) {
        this.maxDisrupted = disrupted.length;
        this.worst = disrupted;
      }
    } catch {
      // A failed sample is skipped.
    } finally {
      this.#busy = false;
    }
  }
}
