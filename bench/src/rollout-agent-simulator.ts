// LOAD GENERATOR, not kok: plays the node agent of every Machine for rollout-efficiency. It watches the
// Machines (one watch, not a list per pass, so that it keeps up at 10,000) and, `upgradeMs` after it first
// sees a spec.revision the status does not report yet, writes what the agent writes once it runs that
// revision: one server-side apply of Machine.status under its own field manager (revision current and
// desired, the spec's components Running, AgentReady and UpToDate True). It stands in for the host side
// only: it downloads, installs and restarts nothing, and it writes once a revision where a real agent
// writes its progress too.
import { MachineConditions, machineType, metaTime } from '@kok/api';
import type { Machine, MachineObject } from '@kok/api';
import { Informer } from '@kok/reconcile';
import type { KubeClient } from '@kok/reconcile';

/** The revision the agent has to converge to, or undefined when the status already reports it. Pure. */
export function pendingRevision(machine: Machine): string | undefined {
  const desired = machine.spec?.revision;
  if (desired === undefined) return undefined;
  const status = machine.status;
  const reported =
    status?.revision?.current === desired &&
    status.revision.desired === desired &&
    status.conditions?.some((c) => c.type === MachineConditions.AgentReady && c.status === 'True') === true;
  return reported ? undefined : desired;
}

/** The status the agent applies once it runs `revision`: the spec's components Running. Pure. */
export function convergedStatus(
  machine: Machine,
  revision: string,
  now: Date,
): NonNullable<Machine['status']> {
  const time = metaTime(now);
  return {
    revision: { current: revision, desired: revision },
    components: (machine.spec?.components ?? []).map((c) => ({
      name: c.name,
      version: c.version,
      state: 'Running' as const,
    })),
    conditions: [
      {
        type: MachineConditions.AgentReady,
        status: 'True',
        reason: 'Converged',
        message: '',
        lastTransitionTime: time,
      },
      {
        type: MachineConditions.UpToDate,
        status: 'True',
        reason: 'AtDesiredRevision',
        message: `running revision ${revision}`,
        lastTransitionTime: time,
      },
    ],
  };
}

export class RolloutAgentSimulator {
  readonly #client: KubeClient;
  readonly #upgradeMs: number;
  readonly #machines: Informer<MachineObject>;
  /** machine → the revision it converges to or has reported: each revision is reported once. */
  readonly #converging = new Map<string, string>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #stopped = false;
  /** Status writes sent (successful or not): subtracted from the apiserver's count to leave the operator's. */
  writes = 0;
  failedWrites = 0;

  /** `client` should carry a field manager of its own and a rate limit that never holds it back. */
  constructor(client: KubeClient, upgradeMs: number, labelSelector: string) {
    this.#client = client;
    this.#upgradeMs = upgradeMs;
    this.#machines = new Informer({ client, type: machineType, labelSelector });
    this.#machines.addEventHandler({
      onAdd: (machine) => this.#consider(machine),
      onUpdate: (_, machine) => this.#consider(machine),
    });
  }

  /** The simulator's Machine cache, for the benchmark to read too. */
  get machines(): Informer<MachineObject> {
    return this.#machines;
  }

  async start(): Promise<void> {
    this.#machines.start();
    await this.#machines.waitForSync();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    await this.#machines.stop();
  }

  /** Reports `revision` now, without the wait: the fleet's state before the benchmark starts. */
  async reportNow(machine: MachineObject, revision: string): Promise<void> {
    this.#converging.set(machine.metadata?.name ?? '', revision);
    await this.#write(machine, revision);
  }

  #consider(machine: MachineObject): void {
    const name = machine.metadata?.name ?? '';
    const revision = pendingRevision(machine);
    if (revision === undefined || this.#converging.get(name) === revision || this.#stopped) return;
    this.#converging.set(name, revision);
    this.#after(this.#upgradeMs, () => this.#converge(name, revision));
  }

  #after(ms: number, work: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void work();
    }, ms);
    this.#timers.add(timer);
  }

  async #converge(name: string, revision: string): Promise<void> {
    if (this.#stopped) return;
    // The spec as it is now: a newer revision assigned meanwhile is converged to on its own timer.
    const machine = this.#machines.getByName(undefined, name);
    if (!machine || machine.spec?.revision !== revision) return;
    try {
      await this.#write(machine, revision);
    } catch {
      // An apiserver hiccup: the agent tries again shortly, as the real one retries its pass.
      this.failedWrites++;
      this.#after(100, () => this.#converge(name, revision));
    }
  }

  async #write(machine: MachineObject, revision: string): Promise<void> {
    this.writes++;
    await this.#client.applyStatus(machineType, {
      apiVersion: machineType.apiVersion,
      kind: machineType.kind,
      metadata: { name: machine.metadata?.name ?? '' },
      status: convergedStatus(machine, revision, new Date()),
    } as MachineObject);
  }
}
