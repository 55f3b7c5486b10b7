/**
 * `kubectl kok nodepool plan` against what the node-operator then does: a pool
 * of 20 kwok machines driven by the agent simulator, planned with the real
 * plugin (a child process, -o json) and then rolled out by the real operator,
 * every Machine change recorded from one watch, in the apiserver's order.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { templateRevision } from '@kok/api';
import type { Machine, NodePool } from '@kok/api';
import { Informer, PatchType } from '@kok/reconcile';
import { sharedKubeConfig } from '@kok/testing/vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createOperator } from '../operator.ts';
import { machineType, nodePoolType, OperatorAnnotations } from '../shared/resources.ts';
import { AgentSimulator } from '../test-support/agent-simulator.ts';
import {
  createFleet,
  createPool,
  deleteFleet,
  eventually,
  installCrds,
  kubeletTemplate,
  testClient,
} from '../test-support/fleet.ts';
import { InvariantPoller } from '../test-support/invariant-poller.ts';
import { kubectlKok } from '../test-support/kubectl-kok.ts';

const ZONE = 'topology.kubernetes.io/zone';

const client = testClient();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** What the plugin's `nodepool plan -o json` prints, as far as this test reads it. */
interface PlanOutput {
  revision: string;
  machines: number;
  changing: { machine: string; wave: number; action: string; drain: boolean }[];
  maxUnavailable: number;
  waves: { index: number; members: string[]; bakeSeconds: number }[];
  steps: { cordon: string[]; assign: string[]; inUse: number; maxUnavailable: number }[];
  outcome: string;
}

/** The order in which Machines were cordoned for, told and finished at a revision, as one watch saw it. */
class RolloutRecorder {
  readonly #informer: Informer<Machine & KubernetesObject>;
  readonly #target: string;
  #sequence = 0;
  readonly started = new Map<string, number>();
  readonly told = new Map<string, number>();
  readonly done = new Map<string, number>();

  constructor(selector: string, target: string) {
    this.#target = target;
    this.#informer = new Informer({
      client: testClient('kok-test-recorder'),
      type: machineType,
      labelSelector: selector,
    });
    const see = (machine: Machine) => this.#see(machine);
    this.#informer.addEventHandler({ onAdd: see, onUpdate: (_, machine) => see(machine) });
  }

  async start(): Promise<void> {
    this.#informer.start();
    await eventually('the recorder to list the Machines', () => this.#informer.hasSynced());
  }

  stop(): Promise<void> {
    return this.#informer.stop();
  }

  #see(machine: Machine): void {
    const name = machine.metadata?.name ?? '';
    const at = ++this.#sequence;
    const cordonedFor = machine.metadata?.annotations?.[OperatorAnnotations.cordonedByRollout];
    const told = machine.spec?.revision === this.#target;
    if ((cordonedFor === this.#target || told) && !this.started.has(name)) this.started.set(name, at);
    if (told && !this.told.has(name)) this.told.set(name, at);
    if (told && machine.status?.revision?.current === this.#target && !this.done.has(name))
      this.done.set(name, at);
  }

  /** Machine names in the order of `events`. */
  static order(events: ReadonlyMap<string, number>): string[] {
    return [...events].sort(([, a], [, b]) => a - b).map(([name]) => name);
  }
}

describe('nodepool plan', () => {
  it('for a pool of 20 machines matches, machine for machine and wave for wave, what the operator then does', async () => {
    await installCrds(client);
    const fleet = await createFleet(client, 20, kubeletTemplate('v1.36.0'));
    cleanups.push(() => deleteFleet(client, fleet));
    // Zones make the rollout order something other than the names' order.
    await Promise.all(
      fleet.machines.map((name, index) =>
        client.patch(machineType, { name }, PatchType.merge, {
          metadata: { labels: { [ZONE]: index % 3 === 0 ? 'zone-b' : 'zone-a' } },
        }),
      ),
    );
    const agent = new AgentSimulator({
      client: testClient('kok-test-agent-simulator'),
      selector: fleet.selector,
    }).start();
    cleanups.push(() => agent.stop());
    const spec = (version: string): NodePool['spec'] => ({
      template: kubeletTemplate(version),
      rollout: {
        strategy: { rollingUpdate: { maxUnavailable: 1 } },
        waves: [
          { name: 'canary', count: 1, bakeSeconds: 2 },
          { name: 'quarter', percent: 25 },
        ],
        order: { labelKeys: [ZONE] },
      },
    });
    await createPool(client, fleet, spec('v1.36.0'));
    const manager = await createOperator({
      kubeConfig: sharedKubeConfig(),
      http: false,
      labelSelector: fleet.selector,
      // 20 machines one at a time take a few passes each: at the default 1 s between passes the rollout
      // alone took 90 s, and three times that on a loaded machine outlasted the test's timeout.
      poolPassIntervalMs: 200,
      logger: pino({ level: process.env.KOK_TEST_LOG ?? 'silent' }),
    });
    await manager.start();
    cleanups.push(() => manager.stop());
    const settledAt = (revision: string) =>
      eventually(
        `pool at revision ${revision}`,
        async () =>
          (await client.get(nodePoolType, { name: fleet.pool })).status?.currentRevision === revision,
        180_000,
      );
    await settledAt(templateRevision(kubeletTemplate('v1.36.0')));

    // Plan the new spec with the plugin, from a file as a person would write it.
    const dir = mkdtempSync(join(tmpdir(), 'kok-plan-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'new-pool.yaml');
    writeFileSync(
      file,
      stringify({
        apiVersion: nodePoolType.apiVersion,
        kind: 'NodePool',
        metadata: { name: fleet.pool },
        spec: spec('v1.36.1'),
      }),
    );
    const planned = await kubectlKok('nodepool', 'plan', fleet.pool, '-f', file, '-o', 'json');
    expect(planned.stderr).toBe('');
    expect(planned.code).toBe(0);
    const plan = JSON.parse(planned.stdout) as PlanOutput;
    const target = templateRevision(kubeletTemplate('v1.36.1'));
    expect(plan).toMatchObject({ revision: target, machines: 20, maxUnavailable: 1, outcome: 'Complete' });
    expect(plan.changing).toHaveLength(20);
    expect(plan.changing.every((machine) => machine.drain && machine.action === 'Drain')).toBe(true);
    expect(plan.waves.map((wave) => wave.members.length)).toEqual([1, 4, 15]);
    // Zone a first (by name, numbers as numbers), then zone b.
    expect(plan.waves[0]?.members).toEqual([fleet.machines[1]]);
    for (const step of plan.steps) expect(step.inUse).toBeLessThanOrEqual(step.maxUnavailable);
    // Nothing was written: no Machine is told or cordoned for the planned revision.
    const untouched = (await client.list(machineType, { labelSelector: fleet.selector })).items;
    expect(
      untouched.filter(
        (m) =>
          m.spec?.revision === target || m.metadata?.annotations?.[OperatorAnnotations.cordonedByRollout],
      ),
    ).toEqual([]);

    // Apply it and record what the operator does.
    const recorder = new RolloutRecorder(fleet.selector, target);
    await recorder.start();
    cleanups.push(() => recorder.stop());
    const poller = new InvariantPoller(client, fleet.selector).start();
    cleanups.push(async () => poller.stop());
    await client.patch(nodePoolType, { name: fleet.pool }, PatchType.merge, { spec: spec('v1.36.1') });
    await settledAt(target);
    poller.stop();

    // Machine for machine: the same machines, started and told in the planned order.
    const plannedStarts = plan.steps.flatMap((step) => [
      ...step.cordon,
      ...step.assign.filter((m) => !step.cordon.includes(m)),
    ]);
    const plannedTold = plan.steps.flatMap((step) => step.assign);
    expect(RolloutRecorder.order(recorder.started)).toEqual([...new Set(plannedStarts)]);
    expect(RolloutRecorder.order(recorder.told)).toEqual(plannedTold);
    expect(new Set(plannedTold)).toEqual(new Set(plan.changing.map((machine) => machine.machine)));
    // Wave for wave: no machine of a wave started before every machine of the wave before it was done.
    for (const [index, wave] of plan.waves.entries()) {
      const before = plan.waves[index - 1];
      if (!before) continue;
      const lastDone = Math.max(...before.members.map((name) => recorder.done.get(name) ?? Infinity));
      const firstStart = Math.min(...wave.members.map((name) => recorder.started.get(name) ?? -Infinity));
      expect(firstStart, `wave ${index} starts after wave ${index - 1} is done`).toBeGreaterThan(lastDone);
    }
    // The budget the plan shows held: never more than maxUnavailable disrupted at once.
    expect(poller.maxDisrupted, `disrupted at once: ${poller.worst.join(', ')}`).toBeLessThanOrEqual(
      plan.maxUnavailable,
    );
  }, 300_000);
});
