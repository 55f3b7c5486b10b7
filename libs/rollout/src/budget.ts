import { occupiesBudget, type MachineState } from './machine-state.ts';
import { DEFAULT_MAX_UNAVAILABLE, maxUnavailableProblem, type IntOrPercent } from './rollout-spec.ts';

/**
 * The number of machines that may be unavailable at once in a pool of
 * `machineCount`. A percentage is rounded down, but a non-zero percentage is at
 * least 1 so a small pool still moves; only an explicit `0` / `"0%"` gives 0.
 * Default (undefined): 1. Throws a RangeError naming the bad value.
 */
export function resolveMaxUnavailable(value: IntOrPercent | undefined, machineCount: number): number {
  if (value === undefined) return DEFAULT_MAX_UNAVAILABLE;
  const problem = maxUnavailableProblem(value);
  if (problem) throw new RangeError(problem);
  if (typeof value === 'number') return value;
  const percent = Number.parseInt(value, 10);
  if (percent === 0) return 0;
  return Math.max(1, Math.floor((machineCount * percent) / 100));
}

/**
 * The pool's one disruption budget: the machines taking a place now, and room
 * for more while `unavailable + newly disrupted ≤ maxUnavailable`.
 */
export class DisruptionBudget {
  readonly limit: number;
  readonly #taken: Set<string>;

  constructor(limit: number, machines: readonly MachineState[]) {
    this.limit = limit;
    this.#taken = new Set(machines.filter(occupiesBudget).map((machine) => machine.name));
  }

  /** Machines in the budget now, counting those admitted by this plan. */
  get used(): number {
    return this.#taken.size;
  }

  /** The machines holding places, those admitted by this plan last. */
  get holders(): string[] {
    return [...this.#taken];
  }

  /**
   * Lets the machine be disrupted if it already holds a place (that costs
   * nothing more) or there is room,
   * and records it. Returns false, changing nothing, when the budget is full.
   */
  admit(name: string): boolean {
    if (this.#taken.has(name)) return true;
    if (this.#taken.size >= this.limit) return false;
    this.#taken.add(name);
    return true;
  }
}
