// Each machine's own upgrade time in a rollout, read from a watch on the Machines: from the first version
// whose spec.revision names the rollout's revision to the first whose status.revision.current reports it.
// Both ends are seen through the same watch, so its delay falls on both and cancels out.
import type { MachineObject } from '@kok/api';

export class UpgradeClock {
  readonly #revision: string;
  /** machine → when its spec was first seen naming the revision. */
  readonly #told = new Map<string, number>();
  /** machine → milliseconds from told to reported. */
  readonly #took = new Map<string, number>();

  constructor(revision: string) {
    this.#revision = revision;
  }

  /** One version of a Machine, seen at `now` (ms). Pure: the caller passes the time. */
  observe(machine: MachineObject, now: number): void {
    const name = machine.metadata?.name ?? '';
    const reported = machine.status?.revision?.current === this.#revision;
    const told = this.#told.get(name);
    if (told === undefined) {
      // Reported in the very version that first names it: when the machine was told is unknown.
      if (machine.spec?.revision === this.#revision && !reported) this.#told.set(name, now);
      return;
    }
    if (reported && !this.#took.has(name)) this.#took.set(name, now - told);
  }

  /** Milliseconds each machine took, for the machines whose upgrade was seen from start to end. */
  upgradeMs(): number[] {
    return [...this.#took.values()];
  }
}
