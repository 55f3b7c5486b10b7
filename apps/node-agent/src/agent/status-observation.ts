/**
 * The agent's part of the Machine status as the host has it now: what is
 * installed and running, health, version checks, file digests, and what the
 * pass says of itself. What is written, and when, is status-reporter.ts.
 */
import type { LastOperation } from '@kok/api';
import type { Clock } from '@kok/reconcile';
import type { DesiredComponent, DesiredState } from '../desired-state.ts';
import { readBootID } from '../host-reboot.ts';
import type { AgentStatus, ComponentObservation } from '../machine-status.ts';
import { agentStatus } from '../machine-status.ts';
import { keyedDigestOfFile, loadDigestKey } from '../published-digest.ts';
import { doneGenerations } from '../remediation.ts';
import type { MachineObject } from '../resources.ts';
import type { VersionCheckSpec, VersionReport } from '../version-check.ts';
import { runVersionCheck } from '../version-check.ts';
import type { HealthChecks } from './health-checks.ts';
import type { AgentHost } from './host.ts';
import { observeHost } from './observe-host.ts';

/** What the pass says of itself in the status. */
export interface PassReport {
  readonly error: { readonly reason: string; readonly message: string } | undefined;
  readonly drift: { readonly paths: string[]; readonly restored: boolean } | undefined;
  readonly operation: LastOperation | undefined;
  /** Components and files the plan removes that are not gone yet. */
  readonly removing: readonly string[];
  readonly converging: boolean;
  /** Why the component's artifact was refused, if it was. */
  readonly refusal: (component: DesiredComponent) => string | undefined;
  /**
   * The status this agent last wrote: fresher than a cache (or the Machine a pass started from) that may not
   * have seen the write. Its components and revision claim are what the next status builds on.
   */
  readonly lastWritten: AgentStatus | undefined;
  /**
   * Set when this pass set out to change the host and changed nothing (every install it tried was refused):
   * the revision claim from before the pass, which still holds.
   */
  readonly untouchedRevision?: AgentStatus['revision'];
}

export interface StatusObservationOptions {
  readonly host: AgentHost;
  readonly health: HealthChecks;
  readonly bootIDPath: string;
  readonly agentVersion: string;
  readonly clock: Clock;
}

export class StatusObservation {
  readonly #options: StatusObservationOptions;
  /** spec.versionCheck results, by component, installed version and check: run once per installed version. */
  readonly #versionReports = new Map<string, VersionReport>();
  /** Keys the digests of Secret files in status (see published-digest.ts). */
  #digestKey: Promise<Buffer> | undefined;

  constructor(options: StatusObservationOptions) {
    this.#options = options;
  }

  digestKey(): Promise<Buffer> {
    this.#digestKey ??= loadDigestKey(this.#options.host.paths.stateDir).catch((error: unknown) => {
      this.#digestKey = undefined;
      throw error;
    });
    return this.#digestKey;
  }

  async status(machine: MachineObject, desired: DesiredState, pass: PassReport): Promise<AgentStatus> {
    const { host, health } = this.#options;
    const observed = await observeHost(host, desired);
    const components = new Map<string, ComponentObservation>();
    for (const c of desired.components) {
      const seen = observed.components.get(c.name);
      const tracker = health.tracker(c.name);
      components.set(c.name, {
        current: seen?.current,
        running: seen?.running,
        health: tracker?.health ?? 'Unknown',
        hasHealthCheck: tracker !== undefined,
        healthMessage: tracker?.message ?? '',
        refusal: pass.refusal(c),
        ...(c.versionCheck && seen?.current
          ? { versionReport: await this.#versionReport(c.name, seen.current, c.versionCheck) }
          : {}),
      });
    }
    const keyedDigests = new Map<string, string | undefined>();
    for (const f of desired.files)
      if (f.secret)
        keyedDigests.set(f.path, await keyedDigestOfFile(await this.digestKey(), host.paths.host(f.path)));
    return agentStatus({
      desired,
      components,
      files: new Map([...observed.files].map(([path, f]) => [path, f.sha256] as const)),
      keyedDigests,
      error: pass.error,
      removing: [...pass.removing],
      drift: pass.drift,
      converging: pass.converging,
      operation: pass.operation,
      previous: {
        ...machine.status,
        ...(pass.lastWritten && {
          components: pass.lastWritten.components,
          revision: pass.lastWritten.revision,
        }),
        ...(pass.untouchedRevision && { revision: pass.untouchedRevision }),
      },
      remediated: doneGenerations(host.journal.state, machine.status),
      bootID: await readBootID(this.#options.bootIDPath).catch(() => undefined),
      agentVersion: this.#options.agentVersion,
      generation: machine.metadata?.generation,
      now: new Date(this.#options.clock.now()),
    });
  }

  async #versionReport(
    component: string,
    installed: string,
    check: VersionCheckSpec,
  ): Promise<VersionReport> {
    const key = JSON.stringify([component, installed, check]);
    const known = this.#versionReports.get(key);
    if (known) return known;
    const { host } = this.#options;
    const report = await runVersionCheck(check, (text) => host.expand(text), host.execution.command);
    this.#versionReports.set(key, report);
    this.#options.host.log.info({ component, installed, ...report }, 'version check');
    return report;
  }
}
