/**
 * The health checks of the desired components, probed on timers: one
 * tracker per component with a check, replaced when its check changes. A
 * changed verdict calls `onChange` (the agent starts a pass to report it).
 */
import type { Clock } from '@kok/reconcile';
import type { Gauge } from 'prom-client';
import type { Logger } from 'pino';
import type { DesiredComponent } from '../desired-state.ts';
import type { Health, HealthCheckSpec, ProbeResult } from '../health-check.ts';
import { healthCheckTimings, HealthTracker, probe } from '../health-check.ts';
import { repeatEvery } from './repeat-every.ts';

export interface HealthChecksOptions {
  readonly clock: Clock;
  /** Host variables in commands and URLs. */
  readonly expand: (text: string) => string;
  readonly onChange: () => void;
  /** kok_node_agent_component_healthy. */
  readonly gauge: Gauge<'component'>;
  readonly log: Logger;
  /** Runs one probe. Default: the check's exec command or HTTP GET. */
  readonly probe?: (
    check: HealthCheckSpec,
    expand: (text: string) => string,
    onHost?: (argv: readonly string[]) => string[],
  ) => Promise<ProbeResult>;
  /** Where an exec check's command runs. Default: here. */
  readonly onHost?: (argv: readonly string[]) => string[];
}

interface Check {
  readonly tracker: HealthTracker;
  readonly stop: () => void;
  /** The check as configured: a different one starts over. */
  readonly key: string;
}

export class HealthChecks {
  readonly #options: HealthChecksOptions;
  readonly #checks = new Map<string, Check>();
  #probing = true;

  constructor(options: HealthChecksOptions) {
    this.#options = options;
  }

  /** Starts the checks of `components` not yet checked, and drops those no longer wanted or configured otherwise. */
  sync(components: readonly DesiredComponent[]): void {
    const wanted = new Map(components.filter((c) => c.healthCheck).map((c) => [c.name, c] as const));
    for (const [name, entry] of this.#checks) {
      const component = wanted.get(name);
      if (!component || JSON.stringify(component.healthCheck) !== entry.key) {
        entry.stop();
        this.#checks.delete(name);
        this.#options.gauge.remove({ component: name });
      }
    }
    for (const [name, component] of wanted) {
      if (this.#checks.has(name)) continue;
      const check = component.healthCheck as HealthCheckSpec;
      this.#checks.set(name, this.#start(name, check));
    }
  }

  /** The tracker of a component with a health check. */
  tracker(component: string): HealthTracker | undefined {
    return this.#checks.get(component)?.tracker;
  }

  /** The component's service (re)started: its old verdict no longer applies. */
  reset(component: string): void {
    this.#checks.get(component)?.tracker.reset(this.#options.clock.now());
  }

  resetAll(): void {
    for (const { tracker } of this.#checks.values()) tracker.reset(this.#options.clock.now());
  }

  /** No probe runs any more; the trackers keep their last verdict. */
  stop(): void {
    this.#probing = false;
    for (const { stop } of this.#checks.values()) stop();
  }

  /** Every check goes: the host has no components left to check. */
  clear(): void {
    for (const { stop } of this.#checks.values()) stop();
    this.#checks.clear();
  }

  #start(name: string, check: HealthCheckSpec): Check {
    const { clock, expand, onHost, gauge, log } = this.#options;
    const run = this.#options.probe ?? probe;
    const timings = healthCheckTimings(check);
    const tracker = new HealthTracker(check.failureThreshold ?? 3, timings.initialDelayMs, clock.now());
    let probing = false;
    const stop = repeatEvery(clock, timings.periodMs, () => {
      if (probing || !this.#probing) return;
      probing = true;
      const epoch = tracker.epoch;
      run(check, expand, onHost)
        .then((result) => {
          const changed = tracker.record(result, epoch, clock.now());
          gauge.set({ component: name }, healthValue(tracker.health));
          if (changed) {
            log.info({ component: name, health: tracker.health, message: result.message }, 'health changed');
            this.#options.onChange();
          }
        })
        .finally(() => (probing = false));
    });
    return { tracker, stop, key: JSON.stringify(check) };
  }
}

function healthValue(health: Health): number {
  return health === 'Healthy' ? 1 : health === 'Failed' ? 0 : -1;
}
