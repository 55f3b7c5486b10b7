/**
 * A stand-in for the node agent in integration tests (the real one runs on
 * hosts). It does what the agent promises through the API and nothing more:
 * for each Machine whose spec.revision it does not run yet, after
 * `convergeMs` it reports the revision as current with its components Running
 * (AgentReady and UpToDate True), or, for a machine named in `failAt` at that
 * revision, reports a failed component (UpToDate False, ComponentFailed), or,
 * for one named in `stuckAt`, never gets there: AgentReady False with reason
 * ArtifactDownloadFailed, still running what it ran (a host whose download fails).
 * It server-side applies Machine.status under its own field manager, as the
 * real agent does, so the operator's conditions stay.
 */
import { MachineConditions, metaTime } from '@kok/api';
import type { Machine } from '@kok/api';
import type { KubeClient } from '@kok/reconcile';
import type { KubernetesObject } from '@kubernetes/client-node';
import { machineType } from '../shared/resources.ts';

export interface AgentSimulatorOptions {
  client: KubeClient;
  /** Label selector of the Machines it plays the agent for. */
  selector: string;
  /** Delay between seeing a new spec.revision and reporting it done. Default 300 ms. */
  convergeMs?: number;
  /** machine name → revision at which its update fails. */
  failAt?: ReadonlyMap<string, string>;
  /** machine name → revision it never converges to (its artifact download keeps failing). */
  stuckAt?: ReadonlyMap<string, string>;
}

/** The reason a machine in `stuckAt` gives on AgentReady. */
export const DOWNLOAD_FAILED = 'ArtifactDownloadFailed';

export class AgentSimulator {
  readonly #options: AgentSimulatorOptions;
  readonly #seen = new Map<string, { revision: string; at: number }>();
  #stopped = false;
  #loop: Promise<void> | undefined;

  constructor(options: AgentSimulatorOptions) {
    this.#options = options;
  }

  start(): this {
    this.#loop = this.#run();
    return this;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        await this.#pass();
      } catch {
        // The next pass tries again (a conflict or a restarting apiserver).
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async #pass(): Promise<void> {
    const { client, selector } = this.#options;
    const { items } = await client.list(machineType, { labelSelector: selector });
    const now = Date.now();
    await Promise.all(
      items.map(async (machine) => {
        const name = machine.metadata?.name ?? '';
        const desired = machine.spec?.revision;
        if (desired === undefined) return;
        const reported = machine.status?.revision?.desired === desired;
        const healthyReported = reported && isConditionStatus(machine, MachineConditions.AgentReady, 'True');
        if (healthyReported) return;
        const stuck = this.#options.stuckAt?.get(name) === desired;
        if (stuck && reported) return;
        const seen = this.#seen.get(name);
        if (!seen || seen.revision !== desired) {
          this.#seen.set(name, { revision: desired, at: now });
          if (machine.status?.revision?.current !== undefined) return;
        } else if (now - seen.at < (this.#options.convergeMs ?? 300)) return;
        if (stuck) await reportStuck(client, machine, desired);
        else await this.#report(machine, desired, this.#options.failAt?.get(name) === desired);
      }),
    );
  }

  async #report(machine: Machine & KubernetesObject, revision: string, fails: boolean): Promise<void> {
    const time = metaTime(new Date());
    const components = (machine.spec?.components ?? []).map((c) => ({
      name: c.name,
      version: c.version,
      state: fails ? ('Failed' as const) : ('Running' as const),
      ...(fails ? { message: 'health check failing: exec check exited 1' } : {}),
    }));
    const current = fails ? machine.status?.revision?.current : revision;
    await this.#options.client.applyStatus(machineType, {
      apiVersion: machineType.apiVersion,
      kind: machineType.kind,
      metadata: { name: machine.metadata?.name ?? '' },
      status: {
        revision: { ...(current ? { current } : {}), desired: revision },
        components,
        conditions: [
          {
            type: MachineConditions.AgentReady,
            status: 'True',
            reason: 'Converged',
            message: '',
            lastTransitionTime: time,
          },
          fails
            ? {
                type: MachineConditions.UpToDate,
                status: 'False',
                reason: 'ComponentFailed',
                message: 'kubelet: health check failing',
                lastTransitionTime: time,
              }
            : {
                type: MachineConditions.UpToDate,
                status: 'True',
                reason: 'AtDesiredRevision',
                message: `running revision ${revision}`,
                lastTransitionTime: time,
              },
        ],
      },
    } as Machine & KubernetesObject);
  }
}

/** AgentReady False, the old revision still current: the agent cannot fetch what `revision` needs. */
async function reportStuck(
  client: KubeClient,
  machine: Machine & KubernetesObject,
  revision: string,
): Promise<void> {
  const time = metaTime(new Date());
  const current = machine.status?.revision?.current;
  await client.applyStatus(machineType, {
    apiVersion: machineType.apiVersion,
    kind: machineType.kind,
    metadata: { name: machine.metadata?.name ?? '' },
    status: {
      revision: { ...(current ? { current } : {}), desired: revision },
      components: machine.status?.components ?? [],
      conditions: [
        {
          type: MachineConditions.AgentReady,
          status: 'False',
          reason: DOWNLOAD_FAILED,
          message: 'kubelet: download failed: sha256 mismatch',
          lastTransitionTime: time,
        },
        {
          type: MachineConditions.UpToDate,
          status: 'False',
          reason: DOWNLOAD_FAILED,
          message: 'kubelet: download failed: sha256 mismatch',
          lastTransitionTime: time,
        },
      ],
    },
  } as Machine & KubernetesObject);
}

function isConditionStatus(machine: Machine, type: string, status: string): boolean {
  return machine.status?.conditions?.some((c) => c.type === type && c.status === status) === true;
}
