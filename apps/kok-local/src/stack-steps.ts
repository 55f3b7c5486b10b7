/**
 * What the stack's two meta-cluster sides (process-meta.ts, container-meta.ts)
 * share with the rest of it: one progress line per finished step, timed from
 * the start, and the stops of whatever started, run in reverse.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { ApiServerReach } from '@kok/host-rig';

export interface StackSteps {
  /** A finished step, with how long it took (since the last step) and the time since the stack began. */
  step(message: string): void;
  /** A line without a time (a choice, a stop). */
  progress(message: string): void;
  /** Registers how to stop what just started. */
  onStop(what: string, stop: () => Promise<unknown>): void;
  /** Stops everything registered, last first, whatever fails; each stop is reported with its time. */
  stopAll(): Promise<void>;
}

export function stackSteps(progress: (message: string) => void): StackSteps {
  const began = performance.now();
  const since = (start: number) => ((performance.now() - start) / 1000).toFixed(1);
  const stops: { what: string; stop: () => Promise<unknown> }[] = [];
  let last = began;
  return {
    step: (message) => {
      // How long this step took, and where in the whole the stack is.
      progress(`${message} (${since(last)}s; at ${since(began)}s)`);
      last = performance.now();
    },
    progress,
    onStop: (what, stop) => stops.push({ what, stop }),
    stopAll: async () => {
      for (const { what, stop } of stops.reverse()) {
        const stopBegan = performance.now();
        await stop().catch((error: unknown) => progress(`stopping ${what} failed: ${String(error)}`));
        progress(`stopped ${what} in ${since(stopBegan)}s`);
      }
      stops.length = 0;
    },
  };
}

/** Where a Cluster's control plane runs: as real containers on real meta-cluster hosts, or as local processes. */
export type ControlPlaneKind = 'containers' | 'processes';

/** The meta-cluster, its Node(s) and the kube-on-kube-operator, as one side of the stack left them. */
export interface MetaSide {
  readonly kind: ControlPlaneKind;
  readonly metaConfig: KubeConfig;
  readonly metaKubeconfigPath: string;
  /** kubectl and the other control-plane binaries. */
  readonly binDir: string;
  /** How this machine reaches the Cluster's apiservers. */
  readonly reach: ApiServerReach;
  /** The Cluster apiserver's Service type: NodePort where the machine reaches only the meta hosts' addresses. */
  readonly apiServerServiceType: 'ClusterIP' | 'NodePort';
  /** Where the operator writes etcd snapshots, where it can; the Cluster then asks for one an hour. */
  readonly etcdSnapshotDir?: string;
  /** The Cluster's Kubernetes version: one this side has images or binaries of. */
  readonly version: string;
  /** Where the logs are, for people. */
  readonly logsWhere: string;
  /** `real processes`, `real containers …`: for the progress lines. */
  readonly runsAs: string;
}
