/**
 * The node tier on the shared control plane (kwok): pods turn Ready without
 * running, so a Cluster's biz apiserver never serves. Three operators:
 *
 * - one whose biz connection is the shared apiserver itself, standing in for
 *   the biz apiserver (a real apiserver, just not the Cluster's): the node
 *   API is installed there and the node-operator Deployment comes and goes
 *   with spec.nodeOperator.enabled;
 * - one as deployed (dialing status.endpoint, a Service name that does not
 *   resolve outside a meta-cluster): the condition says the biz apiserver
 *   cannot be reached, and the control plane is Ready all the same;
 * - one whose biz apiserver refuses it (the shared apiserver, as a user it
 *   does not know): the condition carries the error, and retries back off.
 *
 * libs/pod-runtime's real-boot test covers a biz apiserver that really runs.
 */
import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import { KubeConfig } from '@kubernetes/client-node';
import type { Manager } from '@kok/reconcile';
import { builtinTypes, KubeClient, PatchType, resourceType } from '@kok/reconcile';
import { sharedKubeConfig } from '@kok/testing/vitest';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterNames } from '../names.ts';
import { createOperator } from '../operator.ts';
import type { ClusterObject } from '../resource-types.ts';
import { clusterType, deploymentType } from '../resource-types.ts';
import {
  eventually,
  freshNamespace,
  installClusterCrds,
  provisionVolumes,
  smallCluster,
} from '../test-support.ts';
import { crdType } from './node-api-bundle.ts';
import { NODE_API_HASH_ANNOTATION, NODE_API_INSTALLED } from './node-tier.ts';

const policyType = resourceType(
  'admissionregistration.k8s.io/v1',
  'ValidatingAdmissionPolicy',
  'validatingadmissionpolicies',
  false,
);
const clusterRoleType = resourceType('rbac.authorization.k8s.io/v1', 'ClusterRole', 'clusterroles', false);
const nodePoolType = resourceType<{ spec: unknown } & KubernetesObject>(
  'nodes.kok.dev/v1alpha1',
  'NodePool',
  'nodepools',
  false,
);
const clusterRoleBindingType = resourceType<{ roleRef: { name: string } } & KubernetesObject>(
  'rbac.authorization.k8s.io/v1',
  'ClusterRoleBinding',
  'clusterrolebindings',
  false,
);

let client: KubeClient;
let volumes: Awaited<ReturnType<typeof provisionVolumes>>;
const operators: Manager[] = [];
let standInNs: string;
let deployedNs: string;
let refusedNs: string;

/** The shared apiserver as a user it does not know: every request is refused (401). */
function unknownUser(): KubeConfig {
  const shared = sharedKubeConfig();
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: shared.getClusters(),
    users: [{ name: 'stranger', token: 'not-a-token-this-apiserver-knows' }],
    contexts: [{ name: 'stranger', cluster: shared.getCurrentCluster()?.name ?? '', user: 'stranger' }],
    currentContext: 'stranger',
  });
  return config;
}

beforeAll(async () => {
  client = new KubeClient(sharedKubeConfig(), { qps: 100, burst: 200 });
  await installClusterCrds(client);
  volumes = await provisionVolumes(client, 3);
  standInNs = await freshNamespace(client, 'kok-node-tier');
  deployedNs = await freshNamespace(client, 'kok-node-tier-dns');
  refusedNs = await freshNamespace(client, 'kok-node-tier-refused');
  for (const [namespace, dial] of [
    [standInNs, async () => sharedKubeConfig()],
    [deployedNs, 'endpoint'],
    [refusedNs, async () => unknownUser()],
  ] as const) {
    const operator = createOperator({
      kubeConfig: sharedKubeConfig(),
      namespace,
      http: false,
      logger: pino({ level: 'warn' }),
      bizApiServerDial: dial,
    });
    await operator.start();
    operators.push(operator);
  }
});

afterAll(async () => {
  for (const operator of operators) await operator.stop();
  await volumes?.remove();
  client?.close();
});

const condition = (c: ClusterObject, type: string) => c.status?.conditions?.find((x) => x.type === type);

describe('with a reachable biz apiserver', () => {
  const name = 'nodes';
  const names = () => clusterNames(standInNs, name);
  const getCluster = () => client.get(clusterType, { namespace: standInNs, name });
  const getDeployment = () =>
    client.get(deploymentType, { namespace: standInNs, name: names().nodeOperator }).catch(() => undefined);

  it('installs the node API, then runs a node-operator that goes Available', async () => {
    await client.create(clusterType, smallCluster(standInNs, name, volumes.storageClass, { addons: false }));
    const deployment = (await eventually(
      'the node-operator Deployment',
      getDeployment,
      90_000,
    )) as V1Deployment;
    const pod = deployment.spec?.template.spec;
    expect(pod?.containers[0]?.image).toBe('ghcr.io/kok-dev/node-operator:0.1.0');
    expect(pod?.containers[0]?.args).toContain('--kubeconfig=/etc/kubernetes/kubeconfig/kubeconfig');
    expect(pod?.containers[0]?.args).toContain('--leader-elect');
    expect(pod?.volumes?.[0]?.projected?.sources?.[0]?.secret?.name).toBe(`${name}-node-operator-kubeconfig`);
    expect(deployment.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'Cluster',
      name,
      controller: true,
    });

    const ready = await eventually(
      'NodeOperatorAvailable',
      async () => {
        const c = await getCluster();
        return condition(c, 'NodeOperatorAvailable')?.status === 'True' ? c : undefined;
      },
      60_000,
    );
    expect(ready.status?.components?.nodeOperator).toEqual({ replicas: 1, ready: 1, version: '0.1.0' });
    expect(condition(ready, NODE_API_INSTALLED)).toMatchObject({ status: 'True', reason: 'Installed' });
    expect(ready.metadata?.annotations?.[NODE_API_HASH_ANNOTATION]).toMatch(/^[0-9a-f]{16}$/);
    expect(condition(ready, 'Available')?.status).toBe('True');
    // The shared apiserver stands in for every biz-cluster here: this Cluster's add-ons are off, and it says so.
    const addons = await eventually('AddonsReady True', async () => {
      const c = condition(await getCluster(), 'AddonsReady');
      return c?.status === 'True' ? c : undefined;
    });
    expect(addons).toMatchObject({ status: 'True', reason: 'NoneEnabled' });

    // In the stand-in biz apiserver: the CRDs, applied by this operator and Established; the agent policy and role.
    for (const crdName of ['machines.nodes.kok.dev', 'nodepools.nodes.kok.dev', 'components.nodes.kok.dev']) {
      const crd = (await client.get(crdType, { name: crdName })) as {
        metadata?: { managedFields?: { manager?: string }[] };
        status?: { conditions?: { type: string; status: string }[] };
      };
      expect(crd.metadata?.managedFields?.map((f) => f.manager)).toContain('kube-on-kube-operator');
      expect(crd.status?.conditions).toContainEqual(
        expect.objectContaining({ type: 'Established', status: 'True' }),
      );
    }
    await client.get(policyType, { name: 'kok-node-agent-own-machine' });
    await client.get(clusterRoleType, { name: 'kok:node-agent' });
    // The node-operator chart's guardrails for people: its user roles, and admission policies that refuse
    // what would reach beyond the node software on every host.
    for (const role of ['viewer', 'pool-operator', 'catalog-admin'])
      await client.get(clusterRoleType, { name: `kok-node-${role}` });
    const refusal = await eventually('the file-path guardrail to refuse a NodePool', async () => {
      try {
        await client.create(nodePoolType, {
          apiVersion: 'nodes.kok.dev/v1alpha1',
          kind: 'NodePool',
          metadata: { name: 'keys' },
          spec: {
            template: { components: [], files: [{ path: '/root/.ssh/authorized_keys', content: 'x' }] },
          },
        });
        await client.delete(nodePoolType, { name: 'keys' });
        return undefined;
      } catch (error) {
        return (error as Error).message;
      }
    });
    expect(refusal).toContain(
      'NodePool "keys": file paths outside the allowed prefixes (/etc/kubernetes/, /etc/containerd/, /etc/cni/, ' +
        '/etc/node-problem-detector/, /var/lib/kubelet/): /root/.ssh/authorized_keys.',
    );
    expect(refusal).toContain('ask the admins of the meta-cluster');
    // Kubelet TLS bootstrap: token holders may ask for node client certificates, which are approved.
    for (const [binding, role] of [
      ['kok:kubelet-bootstrap', 'system:node-bootstrapper'],
      ['kok:node-autoapprove-bootstrap', 'system:certificates.k8s.io:certificatesigningrequests:nodeclient'],
      ['kok:apiserver-kubelet-client', 'system:kubelet-api-admin'],
    ] as const)
      expect((await client.get(clusterRoleBindingType, { name: binding })).roleRef.name).toBe(role);
  }, 240_000);

  it('removes the node-operator when disabled and says so, then brings it back; the node API is installed once', async () => {
    const patch = (enabled: boolean) =>
      client.patch(clusterType, { namespace: standInNs, name }, PatchType.merge, {
        spec: { nodeOperator: { enabled } },
      });
    await patch(false);
    await eventually('the node-operator Deployment gone', async () => !(await getDeployment()), 30_000);
    const disabled = await eventually('NodeOperatorAvailable Disabled', async () => {
      const c = await getCluster();
      return condition(c, 'NodeOperatorAvailable')?.reason === 'Disabled' ? c : undefined;
    });
    expect(condition(disabled, 'NodeOperatorAvailable')?.status).toBe('False');
    expect(condition(disabled, 'NodeOperatorAvailable')?.message).toMatch(
      /spec.nodeOperator.enabled is false/,
    );
    expect(disabled.status?.components?.nodeOperator).toEqual({ replicas: 0, ready: 0, version: '' });
    expect(disabled.status?.phase).toBe('Ready');

    await patch(true);
    await eventually(
      'NodeOperatorAvailable again',
      async () => condition(await getCluster(), 'NodeOperatorAvailable')?.status === 'True',
      60_000,
    );
    const { items } = await client.list(builtinTypes.event, { namespace: standInNs });
    const installs = items.filter((e) => e.reason === 'NodeAPIInstalled' && e.regarding?.name === name);
    expect(installs).toHaveLength(1);
  }, 240_000);
});

describe('with a biz apiserver the operator cannot reach', () => {
  const name = 'unreachable';

  it('says why in NodeAPIInstalled, runs no node-operator, and keeps the control plane Ready and not Degraded', async () => {
    await client.create(clusterType, smallCluster(deployedNs, name, volumes.storageClass));
    const c = await eventually(
      'NodeAPIInstalled False with a reason',
      async () => {
        const cluster = await client.get(clusterType, { namespace: deployedNs, name });
        return condition(cluster, NODE_API_INSTALLED)?.reason === 'BizAPIServerUnreachable' &&
          cluster.status?.phase === 'Ready'
          ? cluster
          : undefined;
      },
      90_000,
    );
    const installed = condition(c, NODE_API_INSTALLED);
    expect(installed?.status).toBe('False');
    expect(installed?.message).toContain(
      `cannot reach the biz apiserver at https://${name}-apiserver.${deployedNs}.svc:6443`,
    );
    expect(installed?.message).toContain('--biz-apiserver-dial=pod-ip');
    expect(condition(c, 'NodeOperatorAvailable')).toMatchObject({
      status: 'False',
      reason: 'WaitingForNodeAPI',
    });
    expect(condition(c, 'Available')?.status).toBe('True');
    expect(condition(c, 'Degraded')?.status).toBe('False');
    expect(c.metadata?.annotations?.[NODE_API_HASH_ANNOTATION]).toBeUndefined();
    const deployment = await client
      .get(deploymentType, { namespace: deployedNs, name: clusterNames(deployedNs, name).nodeOperator })
      .catch(() => undefined);
    expect(deployment).toBeUndefined();
  }, 240_000);
});

describe('with a biz apiserver that refuses the node API', () => {
  const name = 'refused';

  it('reports the apiserver error in NodeAPIInstalled and retries with a growing wait, the control plane Ready all along', async () => {
    await client.create(clusterType, smallCluster(refusedNs, name, volumes.storageClass));
    const getCluster = () => client.get(clusterType, { namespace: refusedNs, name });
    /** The Cluster once NodeAPIInstalled says InstallFailed with a wait longer than `seconds`. */
    const refusedWaitingOver = (seconds: number) =>
      eventually(
        `NodeAPIInstalled InstallFailed, retrying in more than ${seconds} s`,
        async () => {
          const c = await getCluster();
          const installed = condition(c, NODE_API_INSTALLED);
          const wait = Number(/retrying in (\d+) s$/.exec(installed?.message ?? '')?.[1]);
          return installed?.reason === 'InstallFailed' && wait > seconds ? { cluster: c, wait } : undefined;
        },
        90_000,
      );
    // Polls may miss a short wait on a busy machine: take the first one seen, then expect a longer one.
    const { cluster: first, wait } = await refusedWaitingOver(0);
    expect(wait).toBeGreaterThanOrEqual(5);
    expect(condition(first, NODE_API_INSTALLED)?.status).toBe('False');
    expect(condition(first, NODE_API_INSTALLED)?.message).toMatch(/refused the node API: .*Unauthorized/i);
    // The next attempt came, and failed again: the wait grew.
    const { cluster: second } = await refusedWaitingOver(wait);
    expect(condition(second, 'Degraded')?.status).toBe('False');
    expect(second.status?.phase).toBe('Ready');
    expect(second.metadata?.annotations?.[NODE_API_HASH_ANNOTATION]).toBeUndefined();
    const { items } = await client.list(builtinTypes.event, { namespace: refusedNs });
    expect(items.filter((e) => e.reason === 'NodeAPIInstallFailed').length).toBeGreaterThanOrEqual(1);
  }, 240_000);
});
