/**
 * One agent converges a host at a time. The one holding it is named in
 * `<run dir>/agent-owner.json` by pid, start time (the host's PID namespace:
 * an agent in a container shares it, hostPID) and whether it takes hosts
 * over. An agent in a container (the node-operator chart's DaemonSet) takes
 * the host over from an agent on the host, or from a dead holder; between two
 * live agents in containers (a pod replaced while the old one still runs)
 * the holder keeps it until it exits. An agent on the host (the bootstrap
 * agent a provisioner started) stands by while another agent holds it, and
 * takes the host back once that one has been gone for a while (the chart was
 * uninstalled), not when an agent pod merely restarts. An agent that lost the
 * host stops converging (its services keep running) and says so in
 * `agent-standby.json`; the taker waits for that, or for the loser's exit,
 * before it adopts the services.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { isMissing, writeFileAtomic } from './atomic-file.ts';
import { isAlive, startTimeOf } from './process-identity.ts';

export interface AgentProcess {
  readonly pid: number;
  readonly startTime: string;
}

/** The holder as `agent-owner.json` names it. */
export interface HostHolder extends AgentProcess {
  /** An agent in a container; records without it come from agents that did not say, treated as on the host. */
  readonly takesOver?: boolean;
}

export type OwnershipDecision = 'held' | 'take' | 'wait';

export interface OwnershipView {
  readonly holder: HostHolder | undefined;
  readonly self: AgentProcess;
  readonly takesOver: boolean;
  /** Whether the named holder still runs. */
  readonly holderAlive: boolean;
  /** How long this agent has seen the named holder dead; 0 while it runs. */
  readonly holderGoneForMs: number;
  /** How long an agent on the host waits before it takes the host back from a dead agent in a container. */
  readonly takeBackAfterMs: number;
}

/** What an agent does about the host given who holds it. Pure. */
export function ownershipDecision(view: OwnershipView): OwnershipDecision {
  const { holder, self, takesOver } = view;
  if (holder && sameProcess(holder, self)) return 'held';
  if (!holder) return 'take';
  if (!view.holderAlive) {
    // A pod that restarts, or is replaced, gets the host back without the bootstrap agent acting in between.
    const podMayComeBack = !takesOver && holder.takesOver === true;
    return podMayComeBack && view.holderGoneForMs < view.takeBackAfterMs ? 'wait' : 'take';
  }
  return takesOver && !holder.takesOver ? 'take' : 'wait';
}

export function sameProcess(a: AgentProcess, b: AgentProcess): boolean {
  return a.pid === b.pid && a.startTime === b.startTime;
}

export interface HostOwnershipOptions {
  /** The agent's run directory (`<root>/run/kok`), where both records live. */
  readonly runDir: string;
  /** An agent in a container takes the host over; one on the host waits. */
  readonly takesOver: boolean;
  readonly log: Logger;
  /** How often the records are read. Default 1 s. */
  readonly pollMs?: number;
  /** How long a taker waits for the previous agent to stand by before it SIGKILLs it. Default 2 min. */
  readonly releaseTimeoutMs?: number;
  /** How long an agent on the host lets a dead agent pod's host be before it takes it back. Default 30 s. */
  readonly takeBackAfterMs?: number;
  /** Default: this process. */
  readonly self?: AgentProcess;
}

export class HostOwnership {
  readonly #options: HostOwnershipOptions;
  readonly #self: AgentProcess;

  constructor(options: HostOwnershipOptions) {
    this.#options = options;
    this.#self = options.self ?? { pid: process.pid, startTime: startTimeOf(process.pid) ?? '' };
  }

  get #ownerFile(): string {
    return join(this.#options.runDir, 'agent-owner.json');
  }

  get #standbyFile(): string {
    return join(this.#options.runDir, 'agent-standby.json');
  }

  /** Resolves true once this agent holds the host, false if `signal` aborted first. */
  async acquire(signal: AbortSignal): Promise<boolean> {
    const { log, takesOver } = this.#options;
    const takeBackAfterMs = this.#options.takeBackAfterMs ?? 30_000;
    let logged: string | undefined;
    let gone: { holder: HostHolder; since: number } | undefined;
    while (!signal.aborted) {
      const holder = await this.#read(this.#ownerFile);
      const holderAlive = holder !== undefined && runs(holder);
      if (holder && !holderAlive && !(gone && sameProcess(gone.holder, holder)))
        gone = { holder, since: Date.now() };
      const decision = ownershipDecision({
        holder,
        self: this.#self,
        takesOver,
        holderAlive,
        holderGoneForMs: holderAlive || !gone ? 0 : Date.now() - gone.since,
        takeBackAfterMs,
      });
      if (decision === 'held') return true;
      if (decision === 'wait') {
        const why = holderAlive
          ? 'another node agent holds this host; standing by until it is gone'
          : `the node agent pod that held this host is gone; taking it back in ${takeBackAfterMs / 1000} s unless it returns`;
        if (logged !== `${holder?.pid}:${why}`) log.info({ holder: holder?.pid }, why);
        logged = `${holder?.pid}:${why}`;
        await this.#pause(signal);
        continue;
      }
      // This agent's word that it stood by, from before, goes first: a taker must not read it once this agent acts.
      const standby = await this.#read(this.#standbyFile);
      const wasStandingBy = standby !== undefined && sameProcess(standby, this.#self);
      if (wasStandingBy) await rm(this.#standbyFile, { force: true });
      await writeFileAtomic(this.#ownerFile, JSON.stringify({ ...this.#self, takesOver }), 0o644);
      if (holder && holderAlive) {
        log.info({ previous: holder.pid }, 'taking this host over from the node agent that held it');
        await this.#waitForRelease(holder, signal);
      }
      // Two agents that both found the host free wrote in turn: the last one holds it, the other waits.
      await this.#pause(signal);
      const now = await this.#read(this.#ownerFile);
      if (now && sameProcess(now, this.#self)) {
        log.info({ pid: this.#self.pid }, 'this node agent holds the host');
        return true;
      }
      if (wasStandingBy) await this.standBy();
    }
    return false;
  }

  /** Resolves once another agent holds the host (or `signal` aborted). */
  async lost(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const owner = await this.#read(this.#ownerFile);
      if (owner && !sameProcess(owner, this.#self)) {
        this.#options.log.warn({ holder: owner.pid }, 'another node agent took this host over; standing by');
        return;
      }
      // Deleted by hand: this agent still holds the host, and says so again.
      if (!owner)
        await writeFileAtomic(
          this.#ownerFile,
          JSON.stringify({ ...this.#self, takesOver: this.#options.takesOver }),
          0o644,
        );
      await this.#pause(signal);
    }
  }

  /** Says that this agent no longer acts on the host: the taker may go on. */
  async standBy(): Promise<void> {
    await writeFileAtomic(this.#standbyFile, JSON.stringify(this.#self), 0o644);
  }

  /** Waits until `previous` stood by or exited; SIGKILLs it after the release timeout, if this agent still holds the host. */
  async #waitForRelease(previous: AgentProcess, signal: AbortSignal): Promise<void> {
    const deadline = Date.now() + (this.#options.releaseTimeoutMs ?? 120_000);
    while (!signal.aborted) {
      const owner = await this.#read(this.#ownerFile);
      // Another agent wrote after this one: the caller sees it does not hold the host.
      if (!owner || !sameProcess(owner, this.#self)) return;
      const standby = await this.#read(this.#standbyFile);
      if (standby && sameProcess(standby, previous)) return;
      if (!runs(previous)) return;
      if (Date.now() > deadline) {
        this.#options.log.warn(
          { previous: previous.pid },
          'the previous node agent did not stand by in time; killing it (its services keep running)',
        );
        try {
          process.kill(previous.pid, 'SIGKILL');
        } catch {
          // Gone meanwhile.
        }
        return;
      }
      await this.#pause(signal);
    }
  }

  async #read(path: string): Promise<HostHolder | undefined> {
    try {
      const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<HostHolder>;
      if (typeof parsed.pid !== 'number' || typeof parsed.startTime !== 'string') return undefined;
      return { pid: parsed.pid, startTime: parsed.startTime, takesOver: parsed.takesOver === true };
    } catch (error) {
      // Missing, or torn by a crash mid-write (writes are atomic, so only by hand): nobody holds the host.
      if (isMissing(error) || error instanceof SyntaxError) return undefined;
      throw error;
    }
  }

  async #pause(signal: AbortSignal): Promise<void> {
    await sleep(this.#options.pollMs ?? 1_000, undefined, { signal }).catch(() => undefined);
  }
}

/** Whether `agent` still runs: its pid is alive and was not reused by a later process. */
function runs(agent: AgentProcess): boolean {
  return isAlive(agent.pid) && startTimeOf(agent.pid) === agent.startTime;
}
