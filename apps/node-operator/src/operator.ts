import {
  ComponentResource,
  findCondition,
  MachineConditions,
  NODE_AGENT_GRANT_LABEL,
  RemediationPolicyResource,
} from '@kok/api';
import {
  builtinTypes,
  ForbiddenError,
  generationChanged,
  isAlreadyExists,
  isNotFound,
  KubeClient,
  Manager,
  resourceVersionChanged,
} from '@kok/reconcile';
import type { Predicate, Request, ResourceType } from '@kok/reconcile';
import type {
  KubeConfig,
  KubernetesObject,
  V1CertificateSigningRequest,
  V1ClusterRoleBinding,
  V1Node,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { machineOfGrant } from './machine/agent-grant.ts';
import { componentReconciler } from './component/component-reconciler.ts';
import { Drainer } from './shared/drainer.ts';
import { machineChangedForRemediation, machineChangedForRollout } from './shared/machine-changes.ts';
import { machineReconciler } from './machine/machine-reconciler.ts';
import { nodeChanged } from './shared/node-changes.ts';
import { nodePoolReconciler } from './nodepool/nodepool-reconciler.ts';
import { atMostEvery, DEFAULT_PASS_INTERVAL_MS } from './shared/pass-interval.ts';
import { PoolLocks } from './shared/pool-locks.ts';
import {
  machineIndexers,
  poolClaimChanged,
  poolMembers,
  poolsSharingMachinesWith,
} from './shared/pool-members.ts';
import { PoolMetrics } from './nodepool/pool-metrics.ts';
import { RemediationMetrics } from './remediation/remediation-metrics.ts';
import { remediationReconciler } from './remediation/remediation-reconciler.ts';
import {
  certificateSigningRequestType,
  componentType,
  machineType,
  nodePoolType,
  remediationPolicyType,
} from './shared/resources.ts';
import { RevisionStore } from './nodepool/revision-store.ts';
import { servingCsrPolicy } from './csr/serving-csr-approval.ts';
import { agentCsrPolicy } from './csr/agent-csr-approval.ts';
import {
  csrApprovalReconciler,
  machineChangedForCsr,
  pendingCsrIndexers,
  pendingCsrsOf,
} from './csr/csr-approval-reconciler.ts';
import { isNodePoolMember, matchesSelector } from '@kok/rollout';
import type { ComponentObject, MachineObject, NodePoolObject, RemediationPolicyObject } from '@kok/api';

/** Drops updates that change nothing (typed for each informer). */
const changed = <T extends KubernetesObject>(): Predicate<T> => resourceVersionChanged;

export interface OperatorOptions {
  kubeConfig: KubeConfig;
  /** Lease kok-node-operator in `namespace`. Default false. */
  leaderElect?: boolean;
  /** Namespace of the Lease and of ControllerRevisions. Default kok-system. */
  namespace?: string;
  /** /metrics, /healthz, /readyz; false for none. Default 0.0.0.0:8080. */
  http?: { host?: string; port?: number; authorizeMetrics?: boolean } | false;
  /** Only Machines, Nodes and NodePools with these labels. Default: all. */
  labelSelector?: string;
  /** Default 10. */
  revisionHistoryLimit?: number;
  /** Lease timings (ms). Defaults 15 s / 10 s / 2 s. */
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  logger?: Logger;
  /** Default: the real time. */
  now?: () => Date;
  /** Run the RemediationPolicy controller. Default true. */
  remediation?: boolean;
  /** After a remediation storm (more unhealthy than maxUnhealthy), remediation stays stopped this long. Default 5 min. */
  stormCooldownMs?: number;
  /**
   * A NodePool is planned at most once per this many ms (Machine and Node events arrive in bursts of
   * thousands). Default 1000; 0 plans on every event.
   */
  poolPassIntervalMs?: number;
  /** Client rate limit towards the apiserver, per client (requests per second and burst). Defaults 100 / 200. */
  qps?: number;
  burst?: number;
  /** The most each client's rate rises to while the apiserver refuses nothing (adaptive-rate.ts in libs/reconcile). Default 1000. */
  maxQps?: number;
}

/** Field managers: one per writer of Machine.status, so server-side apply keeps their conditions apart. */
const FIELD_MANAGER = 'kok-node-operator';
const DRAIN_FIELD_MANAGER = 'kok-node-operator-drain';
const REMEDIATION_FIELD_MANAGER = 'kok-node-operator-remediation';
const ROLLOUT_FIELD_MANAGER = 'kok-node-operator-rollout';

/** How often the apiserver version is read again for the version-skew guard. */
const VERSION_TTL_MS = 30_000;

/** Wires the Machine, NodePool, CSR approval (kubelet serving, node agent) and RemediationPolicy controllers into a Manager; call start() on the result. */
export async function createOperator(options: OperatorOptions): Promise<Manager> {
  const namespace = options.namespace ?? 'kok-system';
  const now = options.now ?? ((): Date => new Date());
  const qps = options.qps ?? 100;
  const burst = options.burst ?? 200;
  const maxQps = Math.max(qps, options.maxQps ?? 1000);
  const manager = new Manager({
    kubeConfig: options.kubeConfig,
    client: { fieldManager: FIELD_MANAGER, userAgent: 'kok-node-operator', qps, burst, maxQps },
    ...(options.leaderElect
      ? {
          leaderElection: {
            namespace,
            name: 'kok-node-operator',
            ...(options.leaseDurationMs ? { leaseDurationMs: options.leaseDurationMs } : {}),
            ...(options.renewDeadlineMs ? { renewDeadlineMs: options.renewDeadlineMs } : {}),
            ...(options.retryPeriodMs ? { retryPeriodMs: options.retryPeriodMs } : {}),
          },
        }
      : {}),
    http: options.http ?? {},
    ...(options.logger ? { logger: options.logger } : {}),
  });
  await ensureNamespace(manager.client, namespace);

  const selection = options.labelSelector ? { labelSelector: options.labelSelector } : {};
  const pools = manager.informer<NodePoolObject>(nodePoolType, selection);
  const machines = manager.informer<MachineObject>(machineType, { ...selection, indexers: machineIndexers });
  const nodes = manager.informer<V1Node>(builtinTypes.node, selection);
  const grants = manager.informer<V1ClusterRoleBinding>(builtinTypes.clusterRoleBinding, {
    labelSelector: NODE_AGENT_GRANT_LABEL,
  });
  const drainClient = new KubeClient(options.kubeConfig, {
    fieldManager: DRAIN_FIELD_MANAGER,
    userAgent: 'kok-node-operator',
    qps,
    burst,
    maxQps,
  });
  const events = manager.eventRecorder('kok.dev/node-operator');
  const metrics = new PoolMetrics(manager.metrics.registry, pools);
  const drainer = new Drainer(drainClient, events, manager.log);
  const locks = new PoolLocks();
  // The catalog is not sharded by labelSelector: a pool may name any Component.
  const components = (await serves(manager.client, componentType))
    ? manager.informer<ComponentObject>(componentType)
    : undefined;
  if (!components)
    manager.log.warn(
      `the apiserver does not serve ${ComponentResource.plural}.${ComponentResource.group}: pool templates are not checked against the catalog; install the CRD and restart`,
    );

  // The rollout's status writes to Machines (waitingFor, RolloutFailed) under a field manager of their own.
  const rolloutStatusClient = new KubeClient(options.kubeConfig, {
    fieldManager: ROLLOUT_FIELD_MANAGER,
    userAgent: 'kok-node-operator',
    qps,
    burst,
    maxQps,
  });
  const poolsOf = (machine: MachineObject | undefined): Request[] =>
    machine
      ? pools
          .list()
          .filter((pool) => isNodePoolMember(machine, pool))
          .map((pool) => ({ name: pool.metadata?.name ?? '' }))
      : [];

  manager
    .controller({
      name: 'machine',
      reconcile: machineReconciler({
        client: manager.client,
        rolloutStatusClient,
        machines,
        nodes,
        pools,
        grants,
        drainer,
        events,
        now,
      }),
      // Each pass is one or two small writes; the client's QPS limit, not the worker count, bounds the load.
      maxConcurrentReconciles: 16,
    })
    .watchPrimary(machines, changed<MachineObject>())
    .watchMapped(nodes, (node) => [{ name: node.metadata?.name ?? '' }], nodeChanged)
    .watchMapped(grants, (binding) => {
      const machine = machineOfGrant(binding);
      return machine ? [{ name: machine }] : [];
    })
    // A pool that lets machines go (its selector changed, or it is deleted): those the rollout held may
    // belong to no pool now, and lose its waitingFor and RolloutFailed (old and new pool are both mapped).
    .watchMapped(
      pools,
      (pool) =>
        poolMembers(machines, pool)
          .filter(
            (machine) =>
              machine.status?.waitingFor !== undefined ||
              findCondition(machine.status?.conditions, MachineConditions.RolloutFailed) !== undefined,
          )
          .map((machine) => ({ name: machine.metadata?.name ?? '' })),
      poolClaimChanged,
    );

  const poolController = manager
    .controller({
      name: 'nodepool',
      reconcile: atMostEvery(
        options.poolPassIntervalMs ?? DEFAULT_PASS_INTERVAL_MS,
        nodePoolReconciler({
          client: manager.client,
          conditionClient: rolloutStatusClient,
          pools,
          machines,
          nodes,
          revisions: new RevisionStore(manager.client, namespace, options.revisionHistoryLimit ?? 10),
          drainer,
          events,
          apiServerVersion: cachedApiServerVersion(manager.client),
          metrics,
          now,
          locks,
          ...(components ? { components } : {}),
        }),
      ),
      maxConcurrentReconciles: 2,
      resyncPeriodMs: 60_000,
    })
    .watchPrimary(pools, changed<NodePoolObject>())
    .watchMapped(
      pools,
      (pool) => poolsSharingMachinesWith(machines, pools.list(), pool).map((name) => ({ name })),
      poolClaimChanged,
    )
    // Every pool that selects the machine, before and after the change: the one that drives it and the others.
    .watchMapped(machines, (machine) => poolsOf(machine), changed<MachineObject>(), machineChangedForRollout)
    .watchMapped(
      nodes,
      (node) => poolsOf(machines.getByName(undefined, node.metadata?.name ?? '')),
      nodeChanged,
    );

  if (components) {
    manager
      .controller({
        name: 'component',
        reconcile: componentReconciler({ client: manager.client, components, now }),
        maxConcurrentReconciles: 2,
      })
      .watchPrimary(components, changed<ComponentObject>());
    // A catalog edit (spec only: the checks read the spec, not Accepted) looks again at the pools naming it.
    poolController.watchMapped(
      components,
      (component) =>
        pools
          .list()
          .filter((pool) =>
            (pool.spec.template.components ?? []).some((c) => c.name === component.metadata?.name),
          )
          .map((pool) => ({ name: pool.metadata?.name ?? '' })),
      generationChanged as Predicate<ComponentObject>,
    );
  }

  // Certificates nobody in Kubernetes approves: kubelet serving certificates and node-agent
  // client certificates. A CSR is approved when its Machine vouches for it.
  for (const [name, policy] of [
    ['serving-csr', servingCsrPolicy],
    ['agent-csr', agentCsrPolicy],
  ] as const) {
    const csrs = manager.informer<V1CertificateSigningRequest>(certificateSigningRequestType, {
      fieldSelector: `spec.signerName=${policy.signer}`,
      indexers: pendingCsrIndexers(policy),
    });
    manager
      .controller({
        name,
        reconcile: csrApprovalReconciler({
          client: manager.client,
          policy,
          csrs,
          machines,
          events,
          partialMachineView: options.labelSelector !== undefined,
        }),
        maxConcurrentReconciles: 2,
      })
      .watchPrimary(csrs, changed<V1CertificateSigningRequest>())
      .watchMapped(machines, (machine) => pendingCsrsOf(csrs, machine), machineChangedForCsr);
  }

  if ((options.remediation ?? true) && !(await servesRemediationPolicies(manager.client))) {
    manager.log.warn(
      `the apiserver does not serve ${RemediationPolicyResource.plural}.${RemediationPolicyResource.group}: install the CRD and restart to enable remediation`,
    );
  } else if (options.remediation ?? true) {
    const policies = manager.informer<RemediationPolicyObject>(remediationPolicyType, selection);
    const policiesOf = (machine: MachineObject | undefined): Request[] =>
      machine
        ? policies
            .list()
            .filter((policy) => matchesSelector(machine.metadata?.labels ?? {}, policy.spec.selector))
            .map((policy) => ({ name: policy.metadata?.name ?? '' }))
        : [];
    manager
      .controller({
        name: 'remediation',
        reconcile: remediationReconciler({
          client: manager.client,
          conditionClient: new KubeClient(options.kubeConfig, {
            fieldManager: REMEDIATION_FIELD_MANAGER,
            userAgent: 'kok-node-operator',
            qps,
            burst,
          }),
          policies,
          pools,
          machines,
          nodes,
          locks,
          drainer,
          events,
          now,
          metrics: new RemediationMetrics(manager.metrics.registry, policies),
          ...(options.stormCooldownMs === undefined ? {} : { stormCooldownMs: options.stormCooldownMs }),
        }),
        maxConcurrentReconciles: 2,
        resyncPeriodMs: 60_000,
      })
      .watchPrimary(policies, changed<RemediationPolicyObject>())
      .watchMapped(
        machines,
        (machine) => policiesOf(machine),
        changed<MachineObject>(),
        machineChangedForRemediation,
      )
      .watchMapped(
        nodes,
        (node) => policiesOf(machines.getByName(undefined, node.metadata?.name ?? '')),
        nodeChanged,
      );
  }

  return manager;
}

/** False when the apiserver does not serve RemediationPolicy (its CRD is not installed): remediation is then off. */
async function servesRemediationPolicies(client: KubeClient): Promise<boolean> {
  return serves(client, remediationPolicyType);
}

/** False when the apiserver does not serve `type` (its CRD is not installed). */
async function serves(client: KubeClient, type: ResourceType): Promise<boolean> {
  try {
    await client.list(type, { limit: 1 });
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

async function ensureNamespace(client: KubeClient, name: string): Promise<void> {
  try {
    await client.create(builtinTypes.namespace, { metadata: { name } });
  } catch (error) {
    if (isAlreadyExists(error)) return;
    // Installed by a chart, the operator may not create namespaces (least
    // privilege) and its namespace is the release's, which exists.
    if (error instanceof ForbiddenError) return;
    throw error;
  }
}

/** GET /version, read again at most every VERSION_TTL_MS: an apiserver upgrade is picked up within that. */
function cachedApiServerVersion(client: KubeClient): () => Promise<string> {
  let cached: { version: string; at: number } | undefined;
  return async () => {
    if (cached && Date.now() - cached.at < VERSION_TTL_MS) return cached.version;
    const info = await client.request<{ gitVersion: string }>('GET', '/version');
    cached = { version: info.gitVersion, at: Date.now() };
    return cached.version;
  };
}
