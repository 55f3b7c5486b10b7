/**
 * The RemediationPolicy reconciler alone against a real apiserver (no Machine controller, no agent, so
 * nothing else writes the Machine): one pass issues an action, without failing on its own writes.
 */
import { Annotations, customResourceDefinition, findCondition, MachineConditions } from '@kok/api';
import { RemediationPolicyResource } from '@kok/api';
import type { MachineObject, NodePoolObject, RemediationPolicy, RemediationPolicyObject } from '@kok/api';
import { builtinTypes, EventRecorder, Informer, PatchType, resourceType } from '@kok/reconcile';
import type { ReconcileContext } from '@kok/reconcile';
import type { KubernetesObject, V1Node } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { Drainer } from '../shared/drainer.ts';
import { PoolLocks } from '../shared/pool-locks.ts';
import {
  machineType,
  nodePoolType,
  OperatorAnnotations,
  remediationPolicyType,
} from '../shared/resources.ts';
import {
  createFleet,
  createPool,
  deleteFleet,
  eventually,
  installCrds,
  kubeletTemplate,
  SCOPE_LABEL,
  testClient,
} from '../test-support/fleet.ts';
import { parseRemediationRecord } from './remediation-observation.ts';
import { remediationReconciler } from './remediation-reconciler.ts';

const client = testClient();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const silent = pino({ level: 'silent' });
const ctx: ReconcileContext = { log: silent, reconcileID: 'test', signal: new AbortController().signal };
const crdType = resourceType<KubernetesObject>(
  'apiextensions.k8s.io/v1',
  'CustomResourceDefinition',
  'customresourcedefinitions',
  false,
);

function started<T extends KubernetesObject>(informer: Informer<T>): Informer<T> {
  informer.start();
  cleanups.push(() => informer.stop());
  return informer;
}

it('issues an action in the pass that takes its budget place, without failing on its own condition write', async () => {
  // The pass writes the Remediating condition (a new resourceVersion), then the action's patch guarded by a
  // resourceVersion: guarded by the one observed before the condition, it failed with a conflict every
  // time, and the action waited for a retried pass (many, while a loaded operator's cache lagged).
  await installCrds(client);
  await client.apply(
    crdType,
    customResourceDefinition(RemediationPolicyResource) as unknown as KubernetesObject,
  );
  await eventually('RemediationPolicy served', async () => {
    await client.list(remediationPolicyType, { limit: 1 });
    return true;
  });
  const fleet = await createFleet(client, 1, kubeletTemplate('v1.36.0'));
  cleanups.push(() => deleteFleet(client, fleet));
  const name = fleet.machines[0] as string;
  await createPool(client, fleet, {
    template: kubeletTemplate('v1.36.0'),
    rollout: { strategy: { rollingUpdate: { maxUnavailable: 1 } } },
  });
  const policy = `rp-${fleet.scope}`;
  await client.create(remediationPolicyType, {
    apiVersion: remediationPolicyType.apiVersion,
    kind: remediationPolicyType.kind,
    metadata: { name: policy, labels: { [SCOPE_LABEL]: fleet.scope } },
    spec: {
      selector: { matchLabels: { [SCOPE_LABEL]: fleet.scope } },
      unhealthyConditions: [{ type: 'KernelDeadlock', status: 'True', duration: '1m' }],
      maxUnhealthy: 1,
      actions: [{ type: 'Cordon', timeout: '1m' }],
    },
  } as RemediationPolicy & KubernetesObject);
  cleanups.push(async () => {
    await client.delete(remediationPolicyType, { name: policy });
  });

  const machines = started(
    new Informer<MachineObject>({ client, type: machineType, labelSelector: fleet.selector }),
  );
  const nodes = started(
    new Informer<V1Node>({ client, type: builtinTypes.node, labelSelector: fleet.selector }),
  );
  const pools = started(
    new Informer<NodePoolObject>({ client, type: nodePoolType, labelSelector: fleet.selector }),
  );
  const policies = started(
    new Informer<RemediationPolicyObject>({
      client,
      type: remediationPolicyType,
      labelSelector: fleet.selector,
    }),
  );
  await Promise.all([machines, nodes, pools, policies].map((informer) => informer.waitForSync()));
  const events = new EventRecorder({ client, controller: 'kok.dev/node-operator', logger: silent });
  const reconcile = remediationReconciler({
    client,
    conditionClient: testClient('kok-test-remediation'),
    policies,
    pools,
    machines,
    nodes,
    locks: new PoolLocks(),
    drainer: new Drainer(testClient('kok-test-drain'), events, silent),
    events,
    now: () => new Date(),
    minPassIntervalMs: 0,
  });
  await reconcile({ name: policy }, ctx);
  expect((await client.get(remediationPolicyType, { name: policy })).status?.expectedMachines).toBe(1);

  // A person asks for it: no condition has to last.
  const requested = await client.patch(machineType, { name }, PatchType.merge, {
    metadata: { annotations: { [Annotations.remediateMachine]: 'true' } },
  });
  await eventually(
    'the request in the cache',
    () =>
      machines.getByName(undefined, name)?.metadata?.resourceVersion === requested.metadata?.resourceVersion,
  );
  // A pass that comes too soon after the last one only puts itself off; a pass that fails throws here.
  for (
    let pass = 0;
    pass < 100 && machines.getByName(undefined, name)?.spec?.unschedulable !== true;
    pass++
  ) {
    await reconcile({ name: policy }, ctx);
    await new Promise((r) => setTimeout(r, 50));
  }

  const cordoned = await client.get(machineType, { name });
  expect(cordoned.spec?.unschedulable).toBe(true);
  expect(findCondition(cordoned.status?.conditions, MachineConditions.Remediating)).toMatchObject({
    status: 'True',
    reason: 'Cordon',
  });
  expect(
    parseRemediationRecord(cordoned.metadata?.annotations?.[OperatorAnnotations.remediation]),
  ).toMatchObject({
    policy,
    step: 0,
    action: 'Cordon',
    state: 'InProgress',
    cordoned: true,
  });
});
