/**
 * Remediation against a real apiserver with kwok Nodes: a node-problem-detector
 * condition that outlasts its duration climbs the action ladder in order with
 * Events; clearing it ends the remediation; too many unhealthy machines trip
 * the circuit breaker; a rollout and a remediation together never take more
 * machines than maxUnavailable (sampled every 200 ms).
 * Over 400 lines on purpose: the four scenarios share its fleet, operator and policy helpers.
 */
import {
  customResourceDefinition,
  findCondition,
  MachineConditions,
  RemediationPolicyResource,
} from '@kok/api';
import type { Machine, NodePool, RemediationPolicy } from '@kok/api';
import { builtinTypes, PatchType, resourceType } from '@kok/reconcile';
import type { KubeClient } from '@kok/reconcile';
import { sharedKubeConfig } from '@kok/testing/vitest';
import type { EventsV1Event, KubernetesObject, V1Node } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createOperator } from '../operator.ts';
import { parseRemediationRecord } from './remediation-observation.ts';
import { RemediationPolicyConditions } from './remediation-plan.ts';
import {
  machineType,
  nodePoolType,
  OperatorAnnotations,
  podDisruptionBudgetType,
  remediationPolicyType,
} from '../shared/resources.ts';
import { AgentSimulator } from '../test-support/agent-simulator.ts';
import {
  createFleet,
  createPool,
  deleteFleet,
  eventually,
  installCrds,
  kubeletTemplate,
  SCOPE_LABEL,
  testClient,
  podOn,
  uniqueName,
} from '../test-support/fleet.ts';
import type { Fleet } from '../test-support/fleet.ts';
import { disruptedMachines } from '../test-support/invariant-poller.ts';

const client = testClient();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const crdType = resourceType<
  KubernetesObject & { status?: { conditions?: { type: string; status: string }[] } }
>('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'customresourcedefinitions', false);

async function installRemediationCrd(): Promise<void> {
  await client.apply(
    crdType,
    customResourceDefinition(RemediationPolicyResource) as unknown as KubernetesObject,
  );
  await eventually('RemediationPolicy served', async () => {
    await client.list(remediationPolicyType, { limit: 1 });
    return true;
  });
}

async function fleetWithPool(count: number, maxUnavailable: number): Promise<Fleet> {
  await installCrds(client);
  await installRemediationCrd();
  const fleet = await createFleet(client, count, kubeletTemplate('v1.36.0'));
  cleanups.push(() => deleteFleet(client, fleet));
  await createPool(client, fleet, {
    template: kubeletTemplate('v1.36.0'),
    rollout: { strategy: { rollingUpdate: { maxUnavailable } } },
  });
  const agent = new AgentSimulator({
    client: testClient('kok-test-agent-simulator'),
    selector: fleet.selector,
  }).start();
  cleanups.push(() => agent.stop());
  return fleet;
}

async function startOperator(fleet: Fleet, stormCooldownMs = 2_000): Promise<void> {
  const manager = await createOperator({
    kubeConfig: sharedKubeConfig(),
    http: false,
    labelSelector: fleet.selector,
    stormCooldownMs,
    logger: pino({ level: process.env.KOK_TEST_LOG ?? 'silent' }),
  });
  await manager.start();
  cleanups.push(() => manager.stop());
}

async function createPolicy(fleet: Fleet, spec: RemediationPolicy['spec']): Promise<string> {
  const name = `rp-${fleet.scope}`;
  await client.create(remediationPolicyType, {
    apiVersion: remediationPolicyType.apiVersion,
    kind: remediationPolicyType.kind,
    metadata: { name, labels: { [SCOPE_LABEL]: fleet.scope } },
    spec,
  } as RemediationPolicy & KubernetesObject);
  cleanups.push(async () => {
    await client.delete(remediationPolicyType, { name });
  });
  return name;
}

/** What node-problem-detector does: patch the Node's status with its condition (observed at `time`). */
async function postNodeProblem(
  kube: KubeClient,
  node: string,
  status: 'True' | 'False',
  time = new Date().toISOString(),
): Promise<void> {
  await kube.patch(
    builtinTypes.node,
    { name: node },
    PatchType.strategicMerge,
    {
      status: {
        conditions: [
          {
            type: 'KernelDeadlock',
            status,
            reason: status === 'True' ? 'DockerHung' : 'KernelHasNoDeadlock',
            message:
              status === 'True'
                ? 'task docker:7 blocked for more than 120 seconds'
                : 'kernel has no deadlock',
            lastHeartbeatTime: time,
            lastTransitionTime: time,
          },
        ],
      },
    } as unknown as V1Node,
    { subresource: 'status' },
  );
}

const machine = (name: string): Promise<Machine & KubernetesObject> => client.get(machineType, { name });
const policyOf = (name: string): Promise<RemediationPolicy & KubernetesObject> =>
  client.get(remediationPolicyType, { name });

async function eventReasons(name: string): Promise<string[]> {
  const { items } = await client.list(builtinTypes.event, { fieldSelector: `regarding.name=${name}` });
  return items
    .filter((e: EventsV1Event) => e.action === 'Remediate')
    .sort((a, b) => String(a.eventTime ?? '').localeCompare(String(b.eventTime ?? '')))
    .map((e) => e.reason ?? '');
}

// The Reboot's timeout also bounds its drain, which the pass after the one that started the step does: a
// loaded operator may take over 2 s to get there, and the step would end without a reboot.
const ladder: RemediationPolicy['spec']['actions'] = [
  { type: 'RestartComponent', component: 'kubelet', timeout: '2s' },
  { type: 'Reboot', timeout: '6s' },
  { type: 'Cordon', timeout: '2s' },
];

describe('RemediationPolicy', () => {
  it('climbs the ladder in order with Events while the problem lasts, and stops once it clears', async () => {
    const fleet = await fleetWithPool(3, 1);
    const sick = fleet.machines[0] as string;
    await startOperator(fleet);
    const policy = await createPolicy(fleet, {
      selector: { matchLabels: { [SCOPE_LABEL]: fleet.scope } },
      unhealthyConditions: [{ type: 'KernelDeadlock', status: 'True', duration: '1s' }],
      maxUnhealthy: 1,
      actions: ladder,
    });
    await eventually('policy status', async () => (await policyOf(policy)).status?.expectedMachines === 3);

    await postNodeProblem(client, sick, 'True');
    await eventually('every action tried', async () =>
      (await eventReasons(sick)).includes('RemediationExhausted'),
    );
    // The reboot is issued once its drain found the Node empty (kwok runs no pods on it).
    expect(await eventReasons(sick)).toEqual([
      'RestartComponent',
      'Reboot',
      'RebootIssued',
      'Cordon',
      'RemediationExhausted',
    ]);
    const exhausted = await machine(sick);
    expect(exhausted.spec?.restartGeneration).toBe(1);
    expect(exhausted.spec?.rebootGeneration).toBe(1);
    expect(exhausted.spec?.unschedulable).toBe(true);
    expect(
      parseRemediationRecord(exhausted.metadata?.annotations?.[OperatorAnnotations.remediation]),
    ).toMatchObject({
      policy,
      step: 2,
      action: 'Cordon',
      state: 'Exhausted',
      cordoned: true,
    });
    expect(findCondition(exhausted.status?.conditions, MachineConditions.Remediating)?.status).toBe('True');
    await eventually(
      'the Node cordoned',
      async () => (await client.get(builtinTypes.node, { name: sick })).spec?.unschedulable === true,
    );
    const counts = (await policyOf(policy)).status;
    expect(counts).toMatchObject({ expectedMachines: 3, currentHealthy: 2, inFlightRemediations: 1 });
    // The healthy machines were never touched.
    for (const other of fleet.machines.slice(1))
      expect((await machine(other)).spec?.restartGeneration).toBeUndefined();

    await postNodeProblem(client, sick, 'False');
    const healed = await eventually('remediation closed', async () => {
      const m = await machine(sick);
      return findCondition(m.status?.conditions, MachineConditions.Remediating)?.status === 'False'
        ? m
        : undefined;
    });
    expect(healed.spec?.unschedulable).toBe(false);
    expect(
      parseRemediationRecord(healed.metadata?.annotations?.[OperatorAnnotations.remediation])?.state,
    ).toBe('Succeeded');
    await eventually(
      'the Node uncordoned',
      async () => (await client.get(builtinTypes.node, { name: sick })).spec?.unschedulable !== true,
    );
    await eventually('status healthy', async () => (await policyOf(policy)).status?.currentHealthy === 3);
    // The Remediated Event is recorded after the condition's write; then nothing more comes.
    await eventually('the Remediated Event', async () => (await eventReasons(sick)).includes('Remediated'));
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await eventReasons(sick)).toEqual([
      'RestartComponent',
      'Reboot',
      'RebootIssued',
      'Cordon',
      'RemediationExhausted',
      'Remediated',
    ]);
    const after = await machine(sick);
    expect([after.spec?.restartGeneration, after.spec?.rebootGeneration]).toEqual([1, 1]);
    expect((await policyOf(policy)).status?.inFlightRemediations).toBe(0);
  });

  it('drains before a Reboot: no reboot while a PodDisruptionBudget holds a pod, the reboot once it lets go', async () => {
    const fleet = await fleetWithPool(2, 1);
    const sick = fleet.machines[0] as string;
    const namespace = uniqueName('reboot');
    await client.create(builtinTypes.namespace, { metadata: { name: namespace } });
    cleanups.push(() => client.delete(builtinTypes.namespace, { name: namespace }));
    const labels = { app: 'guarded' };
    await client.create(builtinTypes.pod, podOn(namespace, 'guarded', sick, labels));
    await client.create(podDisruptionBudgetType, {
      metadata: { namespace, name: 'keep-it' },
      spec: { minAvailable: 1, selector: { matchLabels: labels } },
    });
    await eventually('the PDB to count the pod', async () => {
      const pdb = await client.get(podDisruptionBudgetType, { namespace, name: 'keep-it' });
      return pdb.status?.currentHealthy === 1 && pdb.status.disruptionsAllowed === 0;
    });
    await startOperator(fleet);
    await createPolicy(fleet, {
      selector: { matchLabels: { [SCOPE_LABEL]: fleet.scope } },
      unhealthyConditions: [{ type: 'KernelDeadlock', status: 'True', duration: '1s' }],
      maxUnhealthy: 1,
      actions: [{ type: 'Reboot', timeout: '5m' }],
    });

    await postNodeProblem(client, sick, 'True');
    const draining = await eventually('the Reboot step started', async () => {
      const m = await machine(sick);
      const record = parseRemediationRecord(m.metadata?.annotations?.[OperatorAnnotations.remediation]);
      return record?.action === 'Reboot' ? { m, record } : undefined;
    });
    expect(draining.record).toMatchObject({ drainingBeforeReboot: true, cordoned: true });
    expect(draining.m.spec?.unschedulable).toBe(true);
    // Held: the PDB keeps the pod, so the host is not told to reboot.
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await client.list(builtinTypes.pod, { namespace })).items).toHaveLength(1);
    expect((await machine(sick)).spec?.rebootGeneration).toBeUndefined();

    await client.delete(podDisruptionBudgetType, { namespace, name: 'keep-it' });
    const rebooted = await eventually('the reboot issued after the drain', async () => {
      const m = await machine(sick);
      return m.spec?.rebootGeneration === 1 ? m : undefined;
    });
    expect((await client.list(builtinTypes.pod, { namespace })).items).toHaveLength(0);
    const record = parseRemediationRecord(rebooted.metadata?.annotations?.[OperatorAnnotations.remediation]);
    expect(record).toMatchObject({ action: 'Reboot', state: 'InProgress', cordoned: true });
    expect(record?.drainingBeforeReboot).toBeUndefined();
    expect(record?.startedAt).toBeGreaterThan(draining.record.startedAt);
    expect(await eventReasons(sick)).toEqual(['Reboot', 'RebootIssued']);
  });

  it('stops remediating while more machines are unhealthy than maxUnhealthy, and resumes after the cooldown', async () => {
    const fleet = await fleetWithPool(4, 4);
    await startOperator(fleet, 2_000);
    const policy = await createPolicy(fleet, {
      selector: { matchLabels: { [SCOPE_LABEL]: fleet.scope } },
      unhealthyConditions: [{ type: 'KernelDeadlock', status: 'True', duration: '3s' }],
      maxUnhealthy: 1,
      actions: [{ type: 'RestartComponent', component: 'kubelet', timeout: '1m' }],
    });
    const [a, b] = fleet.machines as [string, string];
    // One observation time for both: the apiserver keeps whole seconds, and two patches that straddle a
    // second would let the first machine outlast its duration alone (no storm yet) and be remediated.
    // The duration is what the operator has to see the second patch after the first: the time truncated to
    // its second leaves as little as 2 s of 3 s (1 s of a shorter one could be nearly nothing, under load).
    const seen = new Date().toISOString();
    await Promise.all([postNodeProblem(client, a, 'True', seen), postNodeProblem(client, b, 'True', seen)]);
    const stormy = await eventually('StormActive', async () => {
      const p = await policyOf(policy);
      return findCondition(p.status?.conditions, RemediationPolicyConditions.StormActive)?.status === 'True'
        ? p
        : undefined;
    });
    expect(
      findCondition(stormy.status?.conditions, RemediationPolicyConditions.RemediationAllowed)?.status,
    ).toBe('False');
    expect(stormy.status?.remediationsAllowed).toBe(0);
    // Events are recorded beside the status write, not before it.
    await eventually('a StormActive Event on the policy', async () => {
      const events = await client.list(builtinTypes.event, { fieldSelector: `regarding.name=${policy}` });
      return events.items.some((e: EventsV1Event) => e.reason === 'StormActive');
    });
    await new Promise((r) => setTimeout(r, 2_500));
    for (const name of [a, b]) expect((await machine(name)).spec?.restartGeneration).toBeUndefined();

    // One recovers: the storm is over, but nothing starts before the cooldown ends.
    await postNodeProblem(client, b, 'False');
    const ended = await eventually('storm over', async () => {
      const p = await policyOf(policy);
      const storm = findCondition(p.status?.conditions, RemediationPolicyConditions.StormActive);
      return storm?.status === 'False' ? storm : undefined;
    });
    const remediated = await eventually('the remaining machine remediated', async () => {
      const m = await machine(a);
      return m.spec?.restartGeneration === 1 ? m : undefined;
    });
    const startedAt =
      parseRemediationRecord(remediated.metadata?.annotations?.[OperatorAnnotations.remediation])
        ?.startedAt ?? 0;
    expect(startedAt - Date.parse(ended.lastTransitionTime)).toBeGreaterThanOrEqual(1_900);
    expect((await machine(b)).spec?.restartGeneration).toBeUndefined();
  });

  it('never takes more machines than maxUnavailable together with a rollout (sampled every 200 ms)', async () => {
    const fleet = await fleetWithPool(6, 2);
    await startOperator(fleet);
    await createPolicy(fleet, {
      selector: { matchLabels: { [SCOPE_LABEL]: fleet.scope } },
      unhealthyConditions: [{ type: 'KernelDeadlock', status: 'True', duration: '0s' }],
      maxUnhealthy: 6,
      actions: [{ type: 'Cordon', timeout: '1m' }],
    });
    const poller = new RemediationAwarePoller(client, fleet.selector).start();
    cleanups.push(async () => poller.stop());

    const sick = fleet.machines.slice(0, 3);
    await Promise.all([
      ...sick.map((name) => postNodeProblem(client, name, 'True')),
      client.patch(nodePoolType, { name: fleet.pool }, PatchType.merge, {
        spec: { template: kubeletTemplate('v1.36.1') } satisfies Partial<NodePool['spec']>,
      }),
    ]);
    await eventually('a remediation cordon', async () => {
      const reasons = await Promise.all(sick.map(eventReasons));
      return reasons.some((r) => r.includes('Cordon'));
    });
    await new Promise((r) => setTimeout(r, 3_000));
    await Promise.all(sick.map((name) => postNodeProblem(client, name, 'False')));
    await eventually(
      'rollout complete',
      async () => {
        const pool = await client.get(nodePoolType, { name: fleet.pool });
        return (
          pool.status?.updatedMachines === 6 && pool.status.currentRevision === pool.status.updateRevision
        );
      },
      90_000,
    );
    poller.stop();
    expect(poller.samples).toBeGreaterThan(10);
    expect(poller.maxDisrupted, `disrupted at once: ${poller.worst.join(', ')}`).toBeLessThanOrEqual(2);
    expect(poller.maxDisrupted).toBe(2);
    expect(poller.sawRemediation).toBe(true);
  });
});

/** The rollout invariant poller, counting machines under remediation (Remediating True) as disrupted too. */
class RemediationAwarePoller {
  readonly #client: KubeClient;
  readonly #selector: string;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  samples = 0;
  maxDisrupted = 0;
  worst: string[] = [];
  sawRemediation = false;

  constructor(kube: KubeClient, selector: string) {
    this.#client = kube;
    this.#selector = selector;
  }

  start(): this {
    this.#timer = setInterval(() => void this.#sample(), 200);
    return this;
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #sample(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const nodes = (await this.#client.list(builtinTypes.node, { labelSelector: this.#selector })).items;
      const machines = (await this.#client.list(machineType, { labelSelector: this.#selector })).items;
      const remediating = machines
        .filter((m) => findCondition(m.status?.conditions, MachineConditions.Remediating)?.status === 'True')
        .map((m) => m.metadata?.name ?? '');
      if (remediating.length > 0) this.sawRemediation = true;
      const disrupted = [...new Set([...disruptedMachines(machines, nodes), ...remediating])];
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
