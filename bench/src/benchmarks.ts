// Every benchmark in src/<name>.bench.ts, with what keeps it honest: the small size the smoke run uses,
// the fields its JSON must carry, and how its headline, the baseline measured in the same run, the
// ratio between them and its target read in the README's table.

/** One benchmark's JSON output, as parsed from its last line. */
export type BenchmarkResult = Record<string, unknown>;

/** One row of the README's benchmark table; every cell is text. */
export interface HeadlineRow {
  headline: string;
  /** What the headline is judged against, measured in the same run ("none" when nothing is). */
  baseline: string;
  ratio: string;
  target: string;
}

export interface Benchmark {
  name: string;
  /** Arguments for `--smoke`: a small size, so that every benchmark runs on every CI run. */
  smokeArgs: readonly string[];
  /** Dotted paths (array elements by index) the JSON must carry; the headline reads only these. */
  fields: readonly string[];
  headline(result: BenchmarkResult): HeadlineRow;
}

/** The value at a dotted path (`figures.0.efficiency`); undefined where any step is missing. */
export function valueAt(result: unknown, path: string): unknown {
  let value: unknown = result;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** The fields of `benchmark` that `result` lacks (null counts as present: JSON's rendering of NaN). */
export function missingFields(benchmark: Benchmark, result: BenchmarkResult): string[] {
  return benchmark.fields.filter((path) => valueAt(result, path) === undefined);
}

/** A figure as the table prints it: large counts grouped or in millions, null (NaN) as n/a. */
export function figure(value: unknown): string {
  if (typeof value !== 'number') return value === null || value === undefined ? 'n/a' : String(value);
  if (!Number.isFinite(value)) return 'n/a';
  if (Math.abs(value) >= 1_000_000) return `${Number((value / 1_000_000).toFixed(1))} M`;
  if (Math.abs(value) >= 10_000) return Math.round(value).toLocaleString('en-US');
  return String(value);
}

const NONE = 'none in the same run';

/** The entries of a `figures` array, for benchmarks that report one figure per size. */
function figuresOf(result: BenchmarkResult): BenchmarkResult[] {
  const figures = result['figures'];
  return Array.isArray(figures) ? (figures as BenchmarkResult[]) : [];
}

function ratio(numerator: unknown, denominator: unknown): string {
  if (typeof numerator !== 'number' || typeof denominator !== 'number' || denominator === 0) return 'n/a';
  return figure(Number((numerator / denominator).toFixed(3)));
}

export const benchmarks: readonly Benchmark[] = [
  {
    name: 'control-plane-start',
    smokeArgs: ['--runs=1'],
    fields: [
      'runs',
      'etcdApiServerStartSecondsMedian',
      'fullStartSecondsMedian',
      'targets.etcdApiServerStartSeconds',
      'targets.fullStartSeconds',
    ],
    headline: (r) => {
      const at = (path: string) => figure(valueAt(r, path));
      return {
        headline: `warm start, median of ${at('runs')}: etcd+apiserver ${at('etcdApiServerStartSecondsMedian')} s, full set ${at('fullStartSecondsMedian')} s`,
        baseline: NONE,
        ratio: 'n/a',
        target: `≤ ${at('targets.etcdApiServerStartSeconds')} s, full set ≤ ${at('targets.fullStartSeconds')} s`,
      };
    },
  },
  {
    name: 'workqueue',
    smokeArgs: ['--adds=100000', '--runs=1'],
    fields: [
      'addsPerRun',
      'addsPerSecondMedian1Worker',
      'addsPerSecondMedian8Workers',
      'baselineSetArrayAddsPerSecondMedian',
      'queueVsBaseline1Worker',
      'target.addsPerSecond',
    ],
    headline: (r) => {
      const at = (path: string) => figure(valueAt(r, path));
      return {
        headline: `${at('addsPerSecondMedian1Worker')} adds/s with 1 worker, ${at('addsPerSecondMedian8Workers')} with 8 (90 % duplicates, ${at('addsPerRun')} adds a run)`,
        baseline: `a Set and an array: ${at('baselineSetArrayAddsPerSecondMedian')} adds/s`,
        ratio: `${at('queueVsBaseline1Worker')}× (1 worker)`,
        target: `≥ ${at('target.addsPerSecond')} adds/s`,
      };
    },
  },
  {
    name: 'informer-memory',
    smokeArgs: ['--nodes=100', '--settle-seconds=1'],
    fields: [
      'nodes',
      'kokNoTransform.syncSeconds',
      'kokNoTransform.rssMiB',
      'kokNoTransform.peakRssMiB',
      'clientNodeMakeInformer.syncSeconds',
      'clientNodeMakeInformer.rssMiB',
      'clientNodeMakeInformer.peakRssMiB',
      'rssRatioKokToClientNode',
      'heapRatioKokToClientNode',
      'transform.kokTransform.rssMiB',
      'transform.rssRatioToNoTransform',
      'targets.rssRatio',
      'targets.syncSeconds',
    ],
    headline: (r) => {
      const at = (path: string) => figure(valueAt(r, path));
      return {
        headline:
          `${at('nodes')} Nodes, full objects in both caches: sync ${at('kokNoTransform.syncSeconds')} s, ` +
          `RSS ${at('kokNoTransform.rssMiB')} MiB (peak ${at('kokNoTransform.peakRssMiB')}). ` +
          `Apart, the cache transform (managedFields and Node images dropped): RSS ${at('transform.kokTransform.rssMiB')} MiB, ` +
          `${at('transform.rssRatioToNoTransform')}× of full objects`,
        baseline: `client-node's makeInformer: sync ${at('clientNodeMakeInformer.syncSeconds')} s, RSS ${at('clientNodeMakeInformer.rssMiB')} MiB (peak ${at('clientNodeMakeInformer.peakRssMiB')})`,
        ratio: `RSS ${at('rssRatioKokToClientNode')}×, heap ${at('heapRatioKokToClientNode')}×`,
        target: `RSS ≤ ${at('targets.rssRatio')}×, sync ≤ ${at('targets.syncSeconds')} s`,
      };
    },
  },
  {
    name: 'node-scale',
    smokeArgs: ['--machines=100', '--pools=2', '--steady-seconds=2', '--baseline-seconds=2'],
    fields: [
      'machines',
      'operatorQps',
      'run',
      'syncSeconds',
      'syncWritesPerSecond',
      'syncWritesPerMachine',
      'syncWritesPerMachineByKind',
      'syncedLag.machinesWithoutNodeRef',
      'setupWritesPerSecond',
      'syncWritesPerSecondToSetupWritesPerSecond',
      'restart.syncSeconds',
      'operator.peakRssMiB',
      'apiserverRequestsPerSecond.steady',
      'apiserverRequestsPerSecond.baselineWithoutOperator',
      'targets.syncSeconds',
      'targets.syncWritesPerSecondToCeiling',
      'targets.syncWritesPerMachine',
      'targets.operatorRssMiB',
      'targets.steadyRequestsPerSecond',
    ],
    headline: (r) => {
      const at = (path: string) => figure(valueAt(r, path));
      return {
        headline:
          `${at('run')}: first adoption of ${at('machines')} Machines and Nodes ${at('syncSeconds')} s at ${at('syncWritesPerSecond')} writes/s, ` +
          `${at('syncWritesPerMachine')} writes a machine; ` +
          `restart ${at('restart.syncSeconds')} s; operator peak RSS ${at('operator.peakRssMiB')} MiB; steady ${at('apiserverRequestsPerSecond.steady')} req/s`,
        baseline: `a client that only writes: ${at('setupWritesPerSecond')} writes/s; ${at('apiserverRequestsPerSecond.baselineWithoutOperator')} req/s without the operator`,
        ratio: `adoption writes/s ${at('syncWritesPerSecondToSetupWritesPerSecond')}× of that`,
        target: `adoption ≤ ${at('targets.syncSeconds')} s and ≥ ${at('targets.syncWritesPerSecondToCeiling')}× of the ceiling, ≤ ${at('targets.syncWritesPerMachine')} writes a machine, RSS ≤ ${at('targets.operatorRssMiB')} MiB, steady ≤ ${at('targets.steadyRequestsPerSecond')} req/s`,
      };
    },
  },
  {
    name: 'cluster-up',
    smokeArgs: ['--runs=1'],
    fields: [
      'runs',
      'createToAvailableSecondsMedian',
      'gateSecondsMedian.EtcdAvailable',
      'gateSecondsMedian.APIServerAvailable',
      'operatorPeakRssMiB',
      'targets.createToAvailableSeconds',
    ],
    headline: (r) => {
      const at = (path: string) => figure(valueAt(r, path));
      return {
        headline:
          `orchestration only (kwok: no etcd or apiserver of the Cluster starts): create → Available ${at('createToAvailableSecondsMedian')} s, ` +
          `median of ${at('runs')}; gates etcd ${at('gateSecondsMedian.EtcdAvailable')} s, apiserver ${at('gateSecondsMedian.APIServerAvailable')} s; ` +
          `operator peak RSS ${at('operatorPeakRssMiB')} MiB`,
        baseline: NONE,
        ratio: 'n/a',
        target: `≤ ${at('targets.createToAvailableSeconds')} s`,
      };
    },
  },
  {
    name: 'cluster-up-down',
    smokeArgs: ['--runs=1'],
    fields: [
      'runs',
      'upSecondsMedian',
      'gateSecondsMedian.EtcdAvailable',
      'gateSecondsMedian.APIServerAvailable',
      'downSecondsMedian',
      'bareEtcdApiServerStartSeconds',
      'upToBareStart',
      'operatorPeakRssMiB',
      'targets.upSeconds',
      'targets.downSeconds',
    ],
    headline: (r) => {
      const at = (path: string) => figure(valueAt(r, path));
      return {
        headline:
          `real processes (etcd, kube-apiserver, controller-manager, scheduler run by the local pod runtime), median of ${at('runs')}: ` +
          `create → biz /readyz ok and kubectl get ns with the admin kubeconfig ${at('upSecondsMedian')} s ` +
          `(gates etcd ${at('gateSecondsMedian.EtcdAvailable')} s, apiserver ${at('gateSecondsMedian.APIServerAvailable')} s); ` +
          `delete → every object and process gone ${at('downSecondsMedian')} s; operator peak RSS ${at('operatorPeakRssMiB')} MiB`,
        baseline: `a bare etcd and kube-apiserver start: ${at('bareEtcdApiServerStartSeconds')} s`,
        ratio: `up ${at('upToBareStart')}×`,
        target: `up ≤ ${at('targets.upSeconds')} s, down ≤ ${at('targets.downSeconds')} s`,
      };
    },
  },
  {
    name: 'cluster-up-real',
    smokeArgs: ['--runs=1'],
    fields: [
      'runs',
      'upSecondsMedian',
      'gateSecondsMedian.EtcdAvailable',
      'gateSecondsMedian.APIServerAvailable',
      'downSecondsMedian',
      'bareEtcdApiServerStartSeconds',
      'upToBareStart',
      'metaClusterSetupSeconds',
      'targets.upSeconds',
      'targets.downSeconds',
    ],
    headline: (r) => {
      const at = (path: string) => figure(valueAt(r, path));
      return {
        headline:
          `real containers (our control-plane images under containerd, runc and the kubelets of 2 real hosts), median of ${at('runs')}: ` +
          `create → biz /readyz ok through its Service's ClusterIP ${at('upSecondsMedian')} s ` +
          `(gates etcd ${at('gateSecondsMedian.EtcdAvailable')} s, apiserver ${at('gateSecondsMedian.APIServerAvailable')} s); ` +
          `delete → every object and container gone ${at('downSecondsMedian')} s; meta-cluster setup ${at('metaClusterSetupSeconds')} s, not counted`,
        baseline: `a bare etcd and kube-apiserver start as processes: ${at('bareEtcdApiServerStartSeconds')} s`,
        ratio: `up ${at('upToBareStart')}×`,
        target: `up ≤ ${at('targets.upSeconds')} s, down ≤ ${at('targets.downSeconds')} s`,
      };
    },
  },
  {
    name: 'cluster-upgrade',
    smokeArgs: ['--runs=1', '--baseline-seconds=3'],
    fields: [
      'runs',
      'from',
      'to',
      'upgradeSecondsMedian',
      'gateSecondsMedian.EtcdAvailable',
      'gateSecondsMedian.APIServerAvailable',
      'gateSecondsMedian.ControllerManagerAvailable',
      'gateSecondsMedian.SchedulerAvailable',
      'roundsDuringUpgrade',
      'failedRounds',
      'retriedRounds',
      'p50UpgradeMs',
      'p99UpgradeMs',
      'p50BaselineMs',
      'p99BaselineMs',
      'p99Ratio',
      'versionsSeen',
      'allProcessesAtNewVersion',
      'targets.upgradeSeconds',
      'targets.failedRounds',
    ],
    headline: (r) => {
      const at = (path: string) => figure(valueAt(r, path));
      const seen = valueAt(r, 'versionsSeen');
      return {
        headline:
          `real processes, ${at('from')} → ${at('to')} (etcd 1, kube-apiserver 2, controller-manager 1, scheduler 1), median of ${at('runs')}: ` +
          `patch → Ready at the new version ${at('upgradeSecondsMedian')} s (gates apiserver ${at('gateSecondsMedian.APIServerAvailable')} s, ` +
          `controller-manager ${at('gateSecondsMedian.ControllerManagerAvailable')} s, scheduler ${at('gateSecondsMedian.SchedulerAvailable')} s); ` +
          `a client through the apiserver pods meanwhile: ${at('roundsDuringUpgrade')} rounds, ${at('failedRounds')} failed, ${at('retriedRounds')} saved by a retry on the other pod, ` +
          `round p50 ${at('p50UpgradeMs')} ms, p99 ${at('p99UpgradeMs')} ms; it saw ${Array.isArray(seen) ? seen.join(' and ') : 'n/a'}; ` +
          `every process at the new binary: ${at('allProcessesAtNewVersion')}`,
        baseline: `the same client before the upgrade: round p50 ${at('p50BaselineMs')} ms, p99 ${at('p99BaselineMs')} ms`,
        ratio: `p99 ${at('p99Ratio')}×`,
        target: `≤ ${at('targets.upgradeSeconds')} s, ${at('targets.failedRounds')} failed rounds`,
      };
    },
  },
  {
    name: 'etcd-restore',
    smokeArgs: ['--keys=200', '--runs=1'],
    fields: [
      'runs',
      'keys',
      'valueBytes',
      'sizeBytes',
      'restoreToAvailableSecondsMedian',
      'volumeRestoredSecondsMedian',
      'freshToAvailableSeconds',
      'bareRestoreSecondsMedian',
      'restoreToBare',
      'everyKeyBack',
    ],
    headline: (r) => {
      const at = (path: string) => figure(valueAt(r, path));
      const size = valueAt(r, 'sizeBytes');
      const mib = typeof size === 'number' ? figure(Number((size / 1024 / 1024).toFixed(1))) : 'n/a';
      return {
        headline:
          `real processes, etcd 1 member, a snapshot of ${at('keys')} keys of ${at('valueBytes')} bytes (${mib} MiB), median of ${at('runs')}: ` +
          `Cluster created with spec.etcd.restoreFrom → Available ${at('restoreToAvailableSecondsMedian')} s ` +
          `(member volume restored at ${at('volumeRestoredSecondsMedian')} s; a fresh Cluster in the same run: ${at('freshToAvailableSeconds')} s); ` +
          `every key back: ${at('everyKeyBack')}`,
        baseline: `bare etcdutl snapshot restore of the same file: ${at('bareRestoreSecondsMedian')} s`,
        ratio: `${at('restoreToBare')}×`,
        target: 'none set',
      };
    },
  },
  {
    name: 'etcd-member-replace',
    smokeArgs: ['--runs=1'],
    fields: [
      'runs',
      'members',
      'replaceSecondsMedian',
      'restartSecondsMedian',
      'replaceToRestart',
      'writes',
      'failedWrites',
      'p99WriteMsBefore',
      'p99WriteMsDuring',
      'maxWriteMsDuring',
      'everyAcknowledgedKeyStored',
    ],
    headline: (r) => {
      const at = (path: string) => figure(valueAt(r, path));
      return {
        headline:
          `real processes, etcd ${at('members')} members, median of ${at('runs')} in one Cluster: a follower's volume lost → replaced under a new id, ` +
          `every member a healthy voter ${at('replaceSecondsMedian')} s; a client writing throughout: ${at('writes')} writes, ${at('failedWrites')} failed, ` +
          `p99 ${at('p99WriteMsDuring')} ms (max ${at('maxWriteMsDuring')} ms) against ${at('p99WriteMsBefore')} ms before; ` +
          `every acknowledged key stored: ${at('everyAcknowledgedKeyStored')}`,
        baseline: `another follower's pod deleted with its volume kept (a restart) → the same state: ${at('restartSecondsMedian')} s`,
        ratio: `${at('replaceToRestart')}×`,
        target: '0 failed writes',
      };
    },
  },
  {
    name: 'etcd-snapshot',
    smokeArgs: ['--keys=500', '--runs=1'],
    fields: [
      'runs',
      'keys',
      'valueBytes',
      'operatorSecondsMedian',
      'sizeBytes',
      'operatorMiBPerSecond',
      'bareSecondsMedian',
      'bareBytes',
      'bareMiBPerSecond',
      'operatorToBare',
      'filesWhole',
    ],
    headline: (r) => {
      const at = (path: string) => figure(valueAt(r, path));
      const mib = (path: string) => {
        const bytes = valueAt(r, path);
        return typeof bytes === 'number' ? figure(Number((bytes / 1024 / 1024).toFixed(1))) : 'n/a';
      };
      return {
        headline:
          `real processes, etcd 1 member holding ${at('keys')} keys of ${at('valueBytes')} bytes, median of ${at('runs')}: ` +
          `request annotation → status.etcd.lastSnapshot answers it ${at('operatorSecondsMedian')} s for ${mib('sizeBytes')} MiB ` +
          `(${at('operatorMiBPerSecond')} MiB/s); every file on the directory with its recorded size and SHA-256: ${at('filesWhole')}`,
        baseline: `the same member's snapshot streamed from its gateway, bytes counted only: ${at('bareSecondsMedian')} s for ${mib('bareBytes')} MiB (${at('bareMiBPerSecond')} MiB/s)`,
        ratio: `${at('operatorToBare')}×`,
        target: 'none set',
      };
    },
  },
  {
    name: 'cluster-fleet',
    smokeArgs: ['--clusters=3'],
    fields: [
      'clusters',
      'allAvailableSeconds',
      'operatorPeakRssMiB',
      'operatorCpuSeconds',
      'targets.allAvailableSeconds',
      'targets.operatorPeakRssMiB',
    ],
    headline: (r) => {
      const at = (path: string) => figure(valueAt(r, path));
      return {
        headline: `orchestration only (kwok): ${at('clusters')} Clusters created at once, all Available in ${at('allAvailableSeconds')} s; operator peak RSS ${at('operatorPeakRssMiB')} MiB, ${at('operatorCpuSeconds')} CPU s`,
        baseline: NONE,
        ratio: 'n/a',
        target: `≤ ${at('targets.allAvailableSeconds')} s, peak RSS ≤ ${at('targets.operatorPeakRssMiB')} MiB`,
      };
    },
  },
  {
    name: 'rollout-efficiency',
    smokeArgs: [
      '--sizes=20',
      '--upgrade-ms=200',
      '--real-agents=3',
      '--max-unavailable=25%',
      '--ceiling-writes=500',
    ],
    fields: [
      'upgradeMs',
      'maxUnavailable',
      'operatorQps',
      'operatorBurst',
      'operatorMaxQps',
      'figures.0.machines',
      'figures.0.idealSeconds',
      'figures.0.rolloutSeconds',
      'figures.0.efficiency',
      'figures.0.machineWriteCeilingPerSecond',
      'figures.0.operatorWritesPerMachine',
      'figures.0.operatorWritesPerSecond',
      'figures.0.operatorWritesPerSecondToCeiling',
      'figures.0.writesPerSecondAtIdealPace',
      'realAgents.machines',
      'realAgents.upgradeSecondsMedian',
      'realAgents.idealSeconds',
      'realAgents.rolloutSeconds',
      'realAgents.efficiency',
      'realAgents.operatorWritesPerMachine',
      'realAgents.machineWriteCeilingPerSecond',
      'target.efficiencyAt1000',
      'target.efficiencyAt10000',
    ],
    headline: (r) => {
      const figures = figuresOf(r);
      const each = (text: (f: BenchmarkResult) => string) => figures.map(text).join(', ');
      // Runs recorded before the real-agent size have no realAgents: their row reads as it did.
      const real =
        valueAt(r, 'realAgents') === undefined
          ? undefined
          : (path: string) => figure(valueAt(r, `realAgents.${path}`));
      return {
        headline:
          `the node-operator process with its shipped flags (client QPS ${figure(r['operatorQps'])} rising to ${figure(r['operatorMaxQps'])}, burst ${figure(r['operatorBurst'])}) and an apiserver, simulated agents, ` +
          `maxUnavailable ${figure(r['maxUnavailable'])}, T = ${figure(r['upgradeMs'])} ms: efficiency ` +
          each(
            (f) =>
              `${figure(f['efficiency'])} at ${figure(f['machines'])} (${figure(f['rolloutSeconds'])} s against ${figure(f['idealSeconds'])} s ideal; ` +
              `${figure(f['operatorWritesPerMachine'])} writes a machine, ${figure(f['operatorWritesPerSecond'])} writes/s; the ideal pace needs ${figure(f['writesPerSecondAtIdealPace'])})`,
          ) +
          (real
            ? `; ${real('machines')} real node-agents (T = their median upgrade, ${real('upgradeSecondsMedian')} s): efficiency ${real('efficiency')} (${real('rolloutSeconds')} s against ${real('idealSeconds')} s ideal; ${real('operatorWritesPerMachine')} writes a machine)`
            : ''),
        baseline:
          `a client that only writes Machines: ${each((f) => `${figure(f['machineWriteCeilingPerSecond'])} writes/s at ${figure(f['machines'])}`)}` +
          (real ? `, ${real('machineWriteCeilingPerSecond')} writes/s in the real-agent run` : ''),
        ratio: `operator writes/s ${each((f) => `${figure(f['operatorWritesPerSecondToCeiling'])}× at ${figure(f['machines'])}`)}`,
        target: `efficiency ≥ ${figure(valueAt(r, 'target.efficiencyAt1000'))} at 1,000, ≥ ${figure(valueAt(r, 'target.efficiencyAt10000'))} at 10,000`,
      };
    },
  },
  {
    name: 'planner-efficiency',
    smokeArgs: ['--sizes=100', '--upgrade-ms=50', '--runs=1'],
    fields: [
      'upgradeMs',
      'figures.0.machines',
      'figures.0.efficiency',
      'figures.0.baselineLockStepEfficiency',
    ],
    headline: (r) => {
      const figures = figuresOf(r);
      const each = (text: (f: BenchmarkResult) => string) => figures.map(text).join(', ');
      return {
        headline: `the planner only, in process: no operator, apiserver, writes, rate limit or pass throttle; simulated agents (T = ${figure(r['upgradeMs'])} ms): efficiency ${each((f) => `${figure(f['efficiency'])} at ${figure(f['machines'])}`)} (an upper bound for rollout-efficiency)`,
        baseline: `lock-step batches: ${each((f) => `${figure(f['baselineLockStepEfficiency'])} at ${figure(f['machines'])}`)}`,
        ratio: each(
          (f) => `${ratio(f['efficiency'], f['baselineLockStepEfficiency'])}× at ${figure(f['machines'])}`,
        ),
        target: "none (the target is rollout-efficiency's)",
      };
    },
  },
  {
    name: 'rollout-planner',
    smokeArgs: ['--sizes=1000', '--calls=3'],
    fields: [
      'calls',
      'figures.0.machines',
      'figures.0.sameListing.cpuMs',
      'figures.0.relisted.cpuMs',
      'figures.0.newNames.cpuMs',
    ],
    headline: (r) => ({
      headline: `CPU ms per planRollout call (same listing / relisted / unseen names): ${figuresOf(r)
        .map(
          (f) =>
            `${figure(valueAt(f, 'sameListing.cpuMs'))} / ${figure(valueAt(f, 'relisted.cpuMs'))} / ${figure(valueAt(f, 'newNames.cpuMs'))} at ${figure(f['machines'])}`,
        )
        .join(', ')}`,
      baseline: NONE,
      ratio: 'n/a',
      target: 'none',
    }),
  },
  {
    name: 'agent-fleet',
    smokeArgs: [
      '--agents=4',
      '--rollouts=1',
      '--heartbeat-seconds=2',
      '--steady-seconds=5',
      '--settle-seconds=2',
    ],
    fields: [
      'agents',
      'rolloutConvergeSecondsMedian',
      'heartbeatSeconds',
      'heartbeat',
      'settled',
      'steadySeconds',
      'steadyHeartbeatPeriods',
      'steadyWritesPerAgentPerMinute',
      'steadyMachineWritesSeenPerAgentPerMinute',
      'steadyMachineWritesSeen',
      'steadyHeartbeatOnlyWrites',
      'steadyMachineWritesByChange',
      'agentProcessPeakRssMiBMax',
      'targetConvergeSeconds',
      'targetWritesPerAgentPerMinute',
    ],
    headline: (r) => {
      const at = (path: string) => figure(valueAt(r, path));
      return {
        headline:
          `${at('agents')} agents converge a new revision in ${at('rolloutConvergeSecondsMedian')} s (median); ` +
          `${at('steadyWritesPerAgentPerMinute')} writes/agent/min, heartbeats included, over ${at('steadySeconds')} s ` +
          `(${at('steadyHeartbeatPeriods')} heartbeat periods of ${at('heartbeatSeconds')} s: ${at('heartbeat')}) ` +
          `${valueAt(r, 'settled') === false ? 'although the fleet never settled after the last rollout' : 'once the last rollout settled'}; ` +
          `of the ${at('steadyMachineWritesSeen')} Machine writes a watch saw, ${at('steadyHeartbeatOnlyWrites')} changed the heartbeat alone; ` +
          `largest agent peak RSS ${at('agentProcessPeakRssMiBMax')} MiB`,
        baseline: NONE,
        ratio: 'n/a',
        target: `≤ ${at('targetConvergeSeconds')} s, ≤ ${at('targetWritesPerAgentPerMinute')} write/agent/min`,
      };
    },
  },
  {
    name: 'real-hosts',
    smokeArgs: ['--hosts=1', '--idle-seconds=2'],
    fields: [
      'hosts',
      'joinSeconds.median',
      'joinSeconds.target',
      'joinBaselineKubeletToReadySeconds.median',
      'joinRatioToBaseline',
      'upgradeSecondsExcludingDrain.median',
      'upgradeSecondsExcludingDrain.target',
      'upgradeBaselineKubeletToReadySeconds.median',
      'upgradeRatioToBaseline',
      'idle.agent.rssMiB',
      'idle.agent.cpuPercentOfCore',
      'idle.agentTargets.rssMiB',
      'idle.agentTargets.cpuPercentOfCore',
    ],
    headline: (r) => {
      const at = (path: string) => figure(valueAt(r, path));
      return {
        headline:
          `real hosts: ${at('hosts')}; Machine → Node Ready ${at('joinSeconds.median')} s (median), kubelet upgrade ${at('upgradeSecondsExcludingDrain.median')} s without the drain; ` +
          `node-agent idle ${at('idle.agent.rssMiB')} MiB RSS, ${at('idle.agent.cpuPercentOfCore')} % of a core`,
        baseline: `the kubelet's own start → Ready: ${at('joinBaselineKubeletToReadySeconds.median')} s at join, ${at('upgradeBaselineKubeletToReadySeconds.median')} s at upgrade`,
        ratio: `join ${at('joinRatioToBaseline')}×, upgrade ${at('upgradeRatioToBaseline')}×`,
        target: `join ≤ ${at('joinSeconds.target')} s, upgrade ≤ ${at('upgradeSecondsExcludingDrain.target')} s, agent ≤ ${at('idle.agentTargets.rssMiB')} MiB and ≤ ${at('idle.agentTargets.cpuPercentOfCore')} %`,
      };
    },
  },
];
