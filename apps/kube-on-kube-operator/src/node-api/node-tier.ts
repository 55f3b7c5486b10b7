/**
 * The node tier of a Cluster, after its control plane and never holding it:
 * once the biz apiserver is Available at the desired version, the nodes.kok.dev
 * API (CRDs, node-agent RBAC and admission policy, kubelet bootstrap RBAC, the
 * node-operator's role, the admin kubeconfig's cluster-admin binding) is
 * server-side applied into the biz-cluster, as a short-lived system:masters
 * identity minted for the install (super-admin.ts), then the node-operator
 * Deployment runs against it. Its trouble shows in NodeAPIInstalled and
 * NodeOperatorAvailable only: the Cluster stays Available and is not Degraded
 * because of it.
 *
 * The installed bundle's hash is recorded on the Cluster (annotation), so it is
 * applied once per bundle, not on every reconcile: a new operator release with
 * other CRDs applies them again. Failed installs are retried with backoff.
 */
import type { KubernetesObject, V1Deployment, V1Secret } from '@kubernetes/client-node';
import { ClusterConditions, findCondition, nodePoolType, removeCondition, setCondition } from '@kok/api';
import type { ClusterStatus, KubeletsObserved, NodeKubelet, NodePoolObject } from '@kok/api';
import type { EventRecorder, KubeClient } from '@kok/reconcile';
import {
  ApiError,
  builtinTypes,
  createOrApplyGuarded,
  isConflict,
  KubeClient as Client,
  PatchType,
} from '@kok/reconcile';
import type { Logger } from 'pino';
import type { RenderContext } from '../components/component.ts';
import type { Endpoint } from '../endpoint.ts';
import type { ClusterNames } from '../names.ts';
import { nodeOperator } from '../components/node-operator.ts';
import { OPERATOR_NAME } from '../names.ts';
import type { ClusterObject } from '../resource-types.ts';
import { clusterType, deploymentType } from '../resource-types.ts';
import type { BizDialer, BizDialMode } from './biz-connection.ts';
import { bizDialer } from './biz-connection.ts';
import type { NodeApiBundle } from './node-api-bundle.ts';
import { bundleTypeOf, clusterAccessBundle, crdType, nodeApiBundle } from './node-api-bundle.ts';
import type { PoolsRead } from './node-pool-versions.ts';
import {
  NODE_POOLS_RECHECK_MS,
  nodePoolsReport,
  nodePoolsStep,
  poolsReadWait,
  poolVersionPatch,
} from './node-pool-versions.ts';
import { superAdminKubeconfigFromCa } from './super-admin.ts';
import type { AddonName } from '../addons/addon-bundle.ts';
import { ADDON_NAMES, addonBundle } from '../addons/addon-bundle.ts';
import { ADDONS_READY_RECHECK_MS, ADDONS_ROLLING_RECHECK_MS, addonsStep } from '../addons/addon-pacing.ts';
import type { AddonPassRecord } from '../addons/addon-pacing.ts';
import { runAddonPass } from '../addons/addon-pass.ts';
import type { AddonStatus } from '../addons/addon-readiness.ts';
import { addonReadiness } from '../addons/addon-readiness.ts';

/** On the Cluster: the hash of the node API bundle last installed in its biz-cluster. */
export const NODE_API_HASH_ANNOTATION = 'clusters.kok.dev/node-api-hash';

/** The condition of the install. */
export const NODE_API_INSTALLED = 'NodeAPIInstalled';

export interface NodeTierOptions {
  /** How the biz apiserver is reached (biz-connection.ts), or a dialer of one's own. Default `endpoint`. */
  dial?: BizDialMode | BizDialer;
  /** Deadline of one request to a biz apiserver. Default 10 s. */
  requestTimeoutMs?: number;
  /** First wait after a failed install; it doubles up to maxRetryMs. Defaults 5 s and 5 min. */
  initialRetryMs?: number;
  maxRetryMs?: number;
}

export interface NodeTierInputs {
  cluster: ClusterObject;
  context: RenderContext;
  /** The biz apiserver is Available at the desired version. */
  apiServerReady: boolean;
  /** The control plane is held after a rollback: nothing new is written. */
  halted: boolean;
  /** Every control-plane component is Available at spec.version: NodePools may move (spec.nodePools). */
  controlPlaneReady: boolean;
  observedDeployment: V1Deployment | undefined;
  /**
   * Mints the short-lived system:masters kubeconfig the bundle is installed
   * with (super-admin.ts); undefined until the PKI exists.
   */
  superAdminKubeconfig: (() => Promise<string>) | undefined;
  now: Date;
}

/** A biz-cluster whose Nodes are read, and the CA Secret (as observed) its credential is signed with. */
export interface KubeletsTarget {
  names: ClusterNames;
  endpoint: Endpoint;
  caSecret: V1Secret | undefined;
  now: Date;
}

export interface NodeTierCondition {
  type: string;
  status: boolean;
  reason: string;
  message: string;
}

export interface NodeTierReport {
  /** Conditions to set; one left out keeps its previous value (a retry not yet due). */
  conditions: NodeTierCondition[];
  /** status.components.nodeOperator: no pods while disabled or waiting. */
  nodeOperator: { replicas?: number; ready?: number; version?: string };
  /** status.addons, when the add-ons were read this pass. */
  addons?: Record<AddonName, AddonStatus>;
  /** status.nodePools, when the pools were read this pass. */
  nodePools?: { pools: number; upToDate: number };
  /** Conditions to remove (NodePoolsUpToDate once spec.nodePools is unset). */
  removeConditions?: string[];
  /** Look again this soon (a retry, a CRD becoming Established). */
  requeueAfterMs?: number;
  /** The Cluster after its annotation recorded the installed bundle. */
  cluster?: ClusterObject;
}

const ESTABLISH_RECHECK_MS = 1_000;

const STALE_RECHECK_MS = 250;

/** What the condition tells people to do when the biz apiserver cannot be reached. */
const unreachableHints: Record<BizDialMode | 'custom', string> = {
  endpoint:
    'the operator dials status.endpoint, which resolves inside the meta-cluster: run the operator there, ' +
    'or start it with --biz-apiserver-dial=pod-ip where apiserver pod addresses are routable',
  'pod-ip':
    'the operator dials a Ready apiserver pod (--biz-apiserver-dial=pod-ip): pod addresses must be routable ' +
    'from where it runs',
  custom: 'check the biz apiserver connection the operator was given',
};

let bundle: NodeApiBundle | undefined;
let accessBundle: NodeApiBundle | undefined;

/** Applies the node tier of Clusters; one per operator (it keeps the retry pacing of each Cluster). */
export class NodeTier {
  readonly #meta: KubeClient;
  readonly #events: EventRecorder | undefined;
  readonly #dial: BizDialer;
  readonly #timeoutMs: number;
  readonly #initialRetryMs: number;
  readonly #maxRetryMs: number;
  readonly #hint: string;
  /** Pacing only: a restarted operator simply tries once more right away. */
  readonly #retries = new Map<string, { failures: number; notBefore: number }>();
  /** Pacing only, like #retries: the last read of each Cluster's NodePools. */
  readonly #poolReads = new Map<string, PoolsRead>();
  /** Pacing only, like #retries: the last add-on pass of each biz-cluster (a restarted operator passes at once). */
  readonly #addonPasses = new Map<string, AddonPassRecord>();

  constructor(meta: KubeClient, events: EventRecorder | undefined, options: NodeTierOptions = {}) {
    this.#meta = meta;
    this.#events = events;
    const dial = options.dial ?? 'endpoint';
    this.#dial = typeof dial === 'function' ? dial : bizDialer(dial);
    this.#hint = unreachableHints[typeof dial === 'function' ? 'custom' : dial];
    this.#timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.#initialRetryMs = options.initialRetryMs ?? 5_000;
    this.#maxRetryMs = options.maxRetryMs ?? 5 * 60_000;
  }

  async reconcile(inputs: NodeTierInputs, log: Logger): Promise<NodeTierReport> {
    bundle ??= nodeApiBundle();
    accessBundle ??= clusterAccessBundle();
    // Every field, always: the status is merge-patched, so a field left out would keep its old value.
    const report: NodeTierReport = { conditions: [], nodeOperator: { replicas: 0, ready: 0, version: '' } };
    const api = await this.#nodeApi(inputs, bundle, accessBundle, report, log);
    await this.#nodeOperator(inputs, api, report, log);
    await this.#nodePools(inputs, api, report, log);
    await this.#addons(inputs, report, log);
    return report;
  }

  /**
   * spec.addons, after the control plane (addon-pacing.ts says when): each pass applies every enabled add-on,
   * removes what this operator made of a disabled one, and reads the workloads. A failure is retried at the
   * next pass; the Cluster is never held by it.
   */
  async #addons(inputs: NodeTierInputs, report: NodeTierReport, log: Logger): Promise<void> {
    const { cluster, context, now } = inputs;
    const set = (status: boolean, reason: string, message: string) => {
      report.conditions.push({ type: ClusterConditions.AddonsReady, status, reason, message });
    };
    const requeue = (ms: number) => {
      report.requeueAfterMs = Math.min(report.requeueAfterMs ?? ms, ms);
    };
    const bundle = addonBundle(context.cluster);
    const key = cluster.metadata.uid ?? `${context.names.namespace}/${context.names.cluster}`;
    const last = this.#addonPasses.get(key);
    const step = addonsStep(last, bundle.hash, inputs.controlPlaneReady && !inputs.halted, now.getTime());
    if (step.kind === 'waitForControlPlane')
      return set(
        false,
        'WaitingForControlPlane',
        `the add-ons move once every control-plane component is Available at ${context.cluster.version}`,
      );
    if (step.kind === 'wait') return requeue(step.ms); // the condition stays as the last pass left it
    if (!inputs.superAdminKubeconfig) {
      requeue(ADDONS_ROLLING_RECHECK_MS);
      return set(false, 'WaitingForPKI', `the cluster CA is not there yet to sign the operator's credential`);
    }
    try {
      const outcome = await this.#onBiz(
        { names: context.names, endpoint: context.endpoint, kubeconfig: inputs.superAdminKubeconfig },
        (biz) => runAddonPass(biz, bundle),
      );
      const readiness = addonReadiness(bundle, outcome);
      const appliedNow = Object.keys(outcome.failed).length === 0 ? bundle.hash : last?.applied;
      this.#addonPasses.set(key, {
        hash: bundle.hash,
        at: now.getTime(),
        ready: readiness.ready,
        applied: appliedNow,
      });
      if (appliedNow !== last?.applied) {
        const summary = ADDON_NAMES.map((name) => {
          const plan = bundle.plans[name];
          return plan.kind === 'apply'
            ? `${name} ${plan.version}`
            : plan.kind === 'remove'
              ? `${name} removed`
              : `${name} not deployed`;
        }).join(', ');
        log.info({ bundle: bundle.hash, addons: summary }, 'add-ons applied');
        await this.#events?.record(
          cluster,
          'Normal',
          'AddonsApplied',
          'Install',
          `add-ons applied (bundle ${bundle.hash}): ${summary}`,
        );
      }
      for (const [name, error] of Object.entries(outcome.failed))
        log.warn({ addon: name, error }, 'add-on not applied');
      report.addons = readiness.status;
      requeue(readiness.ready ? ADDONS_READY_RECHECK_MS : ADDONS_ROLLING_RECHECK_MS);
      set(readiness.ready, readiness.reason, readiness.message);
    } catch (error) {
      this.#addonPasses.set(key, {
        hash: bundle.hash,
        at: now.getTime(),
        ready: false,
        applied: last?.applied,
      });
      requeue(ADDONS_ROLLING_RECHECK_MS);
      const failure = bizFailureOf(error);
      log.warn({ server: failure.server, error: failure.detail }, 'add-ons not applied or read');
      set(
        false,
        failure.refused ? 'ReadFailed' : 'BizAPIServerUnreachable',
        this.#describe(failure, 'to read the add-ons'),
      );
    }
  }

  /**
   * spec.nodePools, once the control plane is Available at spec.version: each NodePool of the biz-cluster gets the
   * versions its template has components for (node-pool-versions.ts decides), then their progress is reported.
   */
  async #nodePools(
    inputs: NodeTierInputs,
    api: { installed: boolean; reason: string },
    report: NodeTierReport,
    log: Logger,
  ): Promise<void> {
    const { cluster, context } = inputs;
    const step = nodePoolsStep(cluster, inputs.controlPlaneReady && !inputs.halted, api);
    // Unset, nothing reports on pools: a condition left from when it was set would speak of versions no longer asked for.
    if (step.kind === 'unset') report.removeConditions = [ClusterConditions.NodePoolsUpToDate];
    if (step.kind === 'unset' || step.kind === 'settled') return;
    const set = (status: boolean, reason: string, message: string) => {
      report.conditions.push({ type: ClusterConditions.NodePoolsUpToDate, status, reason, message });
    };
    if (step.kind === 'waitControlPlane') return set(false, 'WaitingForControlPlane', step.message);
    if (step.kind === 'waitNodeApi') return set(false, 'WaitingForNodeAPI', step.message);
    const recheck = () => {
      report.requeueAfterMs = Math.min(report.requeueAfterMs ?? NODE_POOLS_RECHECK_MS, NODE_POOLS_RECHECK_MS);
    };
    if (!inputs.superAdminKubeconfig) {
      recheck();
      return set(false, 'WaitingForPKI', `the cluster CA is not there yet to sign the operator's credential`);
    }
    const key = cluster.metadata.uid ?? `${context.names.namespace}/${context.names.cluster}`;
    const generation = cluster.metadata.generation ?? 0;
    const wait = poolsReadWait(this.#poolReads.get(key), generation, inputs.now.getTime());
    if (wait > 0) {
      // Read a moment ago: the condition stays as that read left it.
      report.requeueAfterMs = Math.min(report.requeueAfterMs ?? wait, wait);
      return;
    }
    this.#poolReads.set(key, { generation, at: inputs.now.getTime() });
    const mint = inputs.superAdminKubeconfig;
    try {
      await this.#onBiz(
        { names: context.names, endpoint: context.endpoint, kubeconfig: mint },
        async (biz) => {
          const pools: NodePoolObject[] = [];
          for (const listed of (await biz.list(nodePoolType)).items) {
            const patch = poolVersionPatch(listed, step.wanted);
            if (patch.length === 0) {
              pools.push(listed);
              continue;
            }
            pools.push(
              await biz.patch(nodePoolType, { name: listed.metadata.name ?? '' }, PatchType.json, patch),
            );
            log.info(
              { pool: listed.metadata.name, versions: step.wanted },
              'NodePool template set to new versions',
            );
            await this.#events?.record(
              cluster,
              'Normal',
              'NodePoolVersionsSet',
              'Upgrade',
              `NodePool ${listed.metadata.name ?? ''}: ${step.wanted.map((c) => `${c.name} ${c.version}`).join(', ')} where its template has them`,
            );
          }
          const pass = nodePoolsReport(pools, step.wanted);
          report.nodePools = { pools: pass.pools, upToDate: pass.upToDate };
          if (!pass.condition.status) recheck();
          set(pass.condition.status, pass.condition.reason, pass.condition.message);
        },
      );
    } catch (error) {
      recheck();
      const failure = bizFailureOf(error);
      set(
        false,
        failure.refused ? 'NodePoolsNotWritten' : 'BizAPIServerUnreachable',
        this.#describe(failure, 'to list or patch its NodePools'),
      );
    }
  }

  /**
   * Runs `use` with a client of the biz apiserver (closed after), dialled as this tier dials; a failure,
   * minting the credential included, comes out as a BizFailure naming the server tried.
   */
  async #onBiz<T>(
    target: { names: ClusterNames; endpoint: Endpoint; kubeconfig: () => Promise<string> },
    use: (biz: Client, server: string) => Promise<T>,
  ): Promise<T> {
    let server = target.endpoint.url;
    let biz: Client | undefined;
    try {
      const config = await this.#dial({
        names: target.names,
        endpoint: target.endpoint,
        kubeconfig: await target.kubeconfig(),
        meta: this.#meta,
      });
      server = config.getCurrentCluster()?.server ?? server;
      biz = new Client(config, {
        fieldManager: OPERATOR_NAME,
        userAgent: OPERATOR_NAME,
        requestTimeoutMs: this.#timeoutMs,
      });
      return await use(biz, server);
    } catch (error) {
      throw new BizFailure(server, error);
    } finally {
      biz?.close();
    }
  }

  /** One sentence: the biz apiserver refused `what` ("to list its Nodes"), or could not be reached (and what to do). */
  #describe(failure: BizFailure, what: string): string {
    return failure.refused
      ? `the biz apiserver at ${failure.server} refused ${what}: ${failure.detail}`
      : `cannot reach the biz apiserver at ${failure.server} (${failure.detail}): ${this.#hint}`;
  }

  /**
   * The kubelet version of every Node of a biz-cluster (the minor-upgrade check, cluster/kubelet-skew.ts),
   * read as the operator's own short-lived identity over this operator's connection; why not when it
   * cannot be read. Never throws.
   */
  async readKubelets(target: KubeletsTarget): Promise<KubeletsObserved> {
    const { names, endpoint, caSecret, now } = target;
    if (!caSecret?.data?.['tls.key'])
      return {
        readable: false,
        reason: `Secret ${names.secrets.ca} holds no cluster CA to sign a credential`,
      };
    const kubeconfig = () => superAdminKubeconfigFromCa(caSecret, names, endpoint, now);
    try {
      return await this.#onBiz({ names, endpoint, kubeconfig }, async (biz) => {
        const nodes: NodeKubelet[] = [];
        // Page by page, keeping two strings of each: a Node's full status is large.
        await biz.listEach(builtinTypes.node, {}, (node) =>
          nodes.push({
            node: node.metadata?.name ?? '',
            kubeletVersion: node.status?.nodeInfo?.kubeletVersion ?? '',
          }),
        );
        return { readable: true, nodes };
      });
    } catch (error) {
      return { readable: false, reason: this.#describe(bizFailureOf(error), 'to list its Nodes') };
    }
  }

  /**
   * Installs the node API when due; true once the current bundle is in. While
   * the node-operator is disabled, only the admin kubeconfig's binding is
   * installed (unless a full bundle already holds it), and the condition says
   * the node API is not.
   */
  async #nodeApi(
    inputs: NodeTierInputs,
    full: NodeApiBundle,
    clusterAccess: NodeApiBundle,
    report: NodeTierReport,
    log: Logger,
  ): Promise<{ installed: boolean; reason: string }> {
    const { cluster, context, now } = inputs;
    const enabled = context.cluster.nodeOperator.enabled;
    const recorded = cluster.metadata.annotations?.[NODE_API_HASH_ANNOTATION];
    const current = enabled ? full : clusterAccess;
    const set = (status: boolean, reason: string, message: string) => {
      // Disabled, only the admin binding is installed: the condition says the node API is not, or why that binding failed.
      const failed = reason === 'InstallFailed' || reason === 'BizAPIServerUnreachable';
      if (!enabled && !failed) {
        const kept =
          recorded && recorded !== clusterAccess.hash ? ` (bundle ${recorded} stays as it was)` : '';
        report.conditions.push({
          type: NODE_API_INSTALLED,
          status: false,
          reason: 'NodeOperatorDisabled',
          message: `not installed while spec.nodeOperator.enabled is false${kept}`,
        });
        return { installed: false, reason: 'NodeOperatorDisabled' };
      }
      report.conditions.push({ type: NODE_API_INSTALLED, status, reason, message });
      return { installed: status, reason };
    };
    const what = enabled
      ? `the nodes.kok.dev CRDs (${current.crdNames.length}), the node-agent RBAC and admission policy, the kubelet bootstrap RBAC, the node-operator's and the admin kubeconfig's RBAC`
      : `the admin kubeconfig's cluster-admin binding`;
    // A full bundle holds the admin binding too.
    if (recorded === current.hash || (!enabled && recorded === full.hash))
      return set(true, 'Installed', `${what} are installed (bundle ${current.hash})`);
    if (!inputs.apiServerReady)
      return set(
        false,
        'WaitingForAPIServer',
        `${what} are installed once the biz apiserver is Available at ${context.cluster.version}`,
      );
    if (!inputs.superAdminKubeconfig)
      return set(false, 'WaitingForPKI', `the cluster CA is not there yet to sign the operator's credential`);

    const key = cluster.metadata.uid ?? `${context.names.namespace}/${context.names.cluster}`;
    const retry = this.#retries.get(key);
    if (retry && retry.notBefore > now.getTime()) {
      report.requeueAfterMs = retry.notBefore - now.getTime();
      const previous = findCondition(cluster.status?.conditions, NODE_API_INSTALLED);
      return { installed: false, reason: previous?.reason ?? 'Retrying' };
    }

    const mint = inputs.superAdminKubeconfig;
    let server = context.endpoint.url;
    try {
      const pending = await this.#onBiz(
        { names: context.names, endpoint: context.endpoint, kubeconfig: mint },
        async (biz, dialled) => {
          server = dialled;
          for (const obj of current.objects) await biz.apply(bundleTypeOf(obj), obj);
          const notEstablished: string[] = [];
          for (const name of current.crdNames)
            if (!isEstablished(await biz.get(crdType, { name }))) notEstablished.push(name);
          return notEstablished;
        },
      );
      if (pending.length > 0) {
        report.requeueAfterMs = ESTABLISH_RECHECK_MS;
        return set(
          false,
          'Establishing',
          `applied; waiting for CRDs to be Established: ${pending.join(', ')}`,
        );
      }
    } catch (error) {
      const failures = (retry?.failures ?? 0) + 1;
      const waitMs = Math.min(this.#maxRetryMs, this.#initialRetryMs * 2 ** (failures - 1));
      this.#retries.set(key, { failures, notBefore: now.getTime() + waitMs });
      report.requeueAfterMs = waitMs;
      const failure = bizFailureOf(error);
      const message = `${this.#describe(failure, 'the node API')}; retrying in ${Math.round(waitMs / 1000)} s`;
      log.warn({ server: failure.server, failures, error: failure.detail }, 'node API not installed');
      await this.#events?.record(cluster, 'Warning', 'NodeAPIInstallFailed', 'Install', message);
      return set(false, failure.refused ? 'InstallFailed' : 'BizAPIServerUnreachable', message);
    }

    try {
      report.cluster = await this.#meta.patch(
        clusterType,
        { namespace: context.names.namespace, name: context.names.cluster },
        PatchType.merge,
        {
          // The status about to be written was computed from this version: keep that guard.
          metadata: {
            resourceVersion: cluster.metadata.resourceVersion,
            annotations: { [NODE_API_HASH_ANNOTATION]: current.hash },
          },
        },
      );
    } catch (error) {
      if (!isConflict(error)) throw error;
      // Applied, not recorded: the next reconcile applies again (a no-op) and records it.
      report.requeueAfterMs = STALE_RECHECK_MS;
      return { installed: false, reason: 'Recording' };
    }
    this.#retries.delete(key);
    log.info({ server, bundle: current.hash }, 'node API installed in the biz-cluster');
    await this.#events?.record(
      cluster,
      'Normal',
      'NodeAPIInstalled',
      'Install',
      `${what} applied to the biz apiserver at ${server} (bundle ${current.hash})`,
    );
    return set(true, 'Installed', `${what} are installed (bundle ${current.hash})`);
  }

  async #nodeOperator(
    inputs: NodeTierInputs,
    api: { installed: boolean; reason: string },
    report: NodeTierReport,
    log: Logger,
  ): Promise<void> {
    const { context, observedDeployment: observed } = inputs;
    const set = (status: boolean, reason: string, message: string) =>
      report.conditions.push({ type: ClusterConditions.NodeOperatorAvailable, status, reason, message });
    if (!context.cluster.nodeOperator.enabled) {
      if (observed && !observed.metadata?.deletionTimestamp) {
        await this.#meta.delete(deploymentType, {
          namespace: context.names.namespace,
          name: context.names.nodeOperator,
        });
        log.info({ name: context.names.nodeOperator }, 'node-operator disabled; Deployment deleted');
      }
      set(false, 'Disabled', 'spec.nodeOperator.enabled is false: no node-operator runs for this cluster');
      return;
    }
    // A node-operator already running keeps running while a newer bundle waits to be installed.
    if (!api.installed && !observed) {
      set(
        false,
        'WaitingForNodeAPI',
        `waits for the nodes.kok.dev API in the biz-cluster (${NODE_API_INSTALLED}: ${api.reason})`,
      );
      return;
    }
    const desired = nodeOperator.render(context)?.[0] as V1Deployment | undefined;
    if (!desired) {
      set(false, 'WaitingForInputs', 'waits for the node-operator kubeconfig');
      return;
    }
    const status = nodeOperator.status([observed], [desired], context);
    report.nodeOperator = {
      replicas: status.replicas ?? 0,
      ready: status.ready ?? 0,
      version: status.version ?? '',
    };
    const mayWrite = api.installed && inputs.apiServerReady && !inputs.halted;
    if (mayWrite && nodeOperator.needsUpdate(observed, desired)) {
      try {
        await createOrApplyGuarded(this.#meta, deploymentType, desired, observed);
        log.info({ name: desired.metadata?.name, version: context.cluster.nodeOperator.version }, 'applied');
      } catch (error) {
        if (isConflict(error)) {
          report.requeueAfterMs = Math.min(report.requeueAfterMs ?? STALE_RECHECK_MS, STALE_RECHECK_MS);
        } else {
          set(
            false,
            'ApplyFailed',
            `writing Deployment ${desired.metadata?.name} failed: ${(error as Error).message}`,
          );
          report.requeueAfterMs = this.#initialRetryMs;
          return;
        }
      }
    }
    set(status.availableAtDesired, status.reason, status.message);
  }
}

function isEstablished(crd: KubernetesObject): boolean {
  const conditions = (crd as { status?: { conditions?: { type: string; status: string }[] } }).status
    ?.conditions;
  return conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
}

/** `status` with the node tier's conditions and component counts. Pure. */
export function withNodeTier(
  status: ClusterStatus,
  report: NodeTierReport,
  generation: number,
  now: Date,
): ClusterStatus {
  let conditions = status.conditions ?? [];
  for (const type of report.removeConditions ?? []) conditions = removeCondition(conditions, type);
  for (const c of report.conditions)
    conditions = setCondition(
      conditions,
      {
        type: c.type,
        status: c.status ? 'True' : 'False',
        reason: c.reason,
        message: c.message,
        observedGeneration: generation,
      },
      now,
    );
  return {
    ...status,
    components: { ...status.components, nodeOperator: report.nodeOperator },
    ...(report.nodePools ? { nodePools: report.nodePools } : {}),
    ...(report.addons ? { addons: report.addons } : {}),
    conditions,
  };
}

/** A call to a biz apiserver that failed: the server tried, and whether it answered (an API error) or not. */
class BizFailure extends Error {
  readonly refused: boolean;
  readonly detail: string;

  readonly server: string;

  constructor(server: string, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(detail, { cause });
    this.server = server;
    this.refused = cause instanceof ApiError;
    this.detail = detail;
  }
}

function bizFailureOf(error: unknown): BizFailure {
  return error instanceof BizFailure ? error : new BizFailure('(not dialled)', error);
}
