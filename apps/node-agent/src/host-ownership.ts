/**
 * One agent converges a host at a time. The one holding it is named in
 * `<run dir>/agent-owner.json` by pid and start time (the host's PID
 * namespace: an agent in a container shares it, hostPID). An agent in a
 * container (the node-operator chart's DaemonSet) takes the host over from
 * whoever holds it; an agent on the host (the bootstrap agent a provisioner
 * started) stands by while another live agent holds it and takes the host
 * back once that one is gone, e.g. after the chart was uninstalled. An agent
 * that lost the host stops converging (its services keep running) and says
 * so in `agent-standby.json`; the taker waits for that, or for the loser's
 * exit, before it adopts the services, so two agents never act at once.
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

export type OwnershipDecision = 'held' | 'take' | 'wait';

/**
 * What an agent does about the host given who holds it. Pure: `ownerAlive` says whether the named
 * process still runs.
 */
export function ownershipDecision(
  owner: AgentProcess | undefined,
  self: AgentProcess,
  ownerAlive: boolean,
  takesOver: boolean,
): OwnershipDecision {
  if (owner && sameProcess(owner, self)) return 'held';
  if (!owner || !ownerAlive) return 'take';
  return takesOver ? 'take' : 'wait';
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
    let waitingFor: number | undefined;
    while (!signal.aborted) {
      const owner = await this.#read(this.#ownerFile);
      const ownerAlive =
        owner !== undefined && isAlive(owner.pid) && startTimeOf(owner.pid) === owner.startTime;
      const decision = ownershipDecision(owner, this.#self, ownerAlive, takesOver);
      if (decision === 'held') return true;
      if (decision === 'wait') {
        if (waitingFor !== owner?.pid)
          log.info(
            { holder: owner?.pid },
            'another node agent holds this host; standing by until it is gone',
          );
        waitingFor = owner?.pid;
        await this.#pause(signal);
        continue;
      }
      await writeFileAtomic(this.#ownerFile, JSON.stringify(this.#self), 0o644);
      if (owner && ownerAlive) {
        log.info({ previous: owner.pid }, 'taking this host over from the node agent that held it');
        await this.#waitForRelease(owner, signal);
      }
      // Two agents that both found the host free wrote in turn: the last one holds it, the other waits.
      await this.#pause(signal);
      const holder = await this.#read(this.#ownerFile);
      if (holder && sameProcess(holder, this.#self)) {
        // This agent's own word that it stood by, from before: no longer true.
        const standby = await this.#read(this.#standbyFile);
        if (standby && sameProcess(standby, this.#self)) await rm(this.#standbyFile, { force: true });
        log.info({ pid: this.#self.pid }, 'this node agent holds the host');
        return true;
      }
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
      if (!owner) await writeFileAtomic(this.#ownerFile, JSON.stringify(this.#self), 0o644);
      await this.#pause(signal);
    }
  }

  /** Says that this agent no longer acts on the host: the taker may go on. */
  async standBy(): Promise<void> {
    await writeFileAtomic(this.#standbyFile, JSON.stringify(this.#self), 0o644);
  }

  async #waitForRelease(previous: AgentProcess, signal: AbortSignal): Promise<void> {
    const deadline = Date.now() + (this.#options.releaseTimeoutMs ?? 120_000);
    while (!signal.aborted) {
      const standby = await this.#read(this.#standbyFile);
      if (standby && sameProcess(standby, previous)) return;
      if (!isAlive(previous.pid) || startTimeOf(previous.pid) !== previous.startTime) return;
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

  async #read(path: string): Promise<AgentProcess | undefined> {
    try {
      const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<AgentProcess>;
      return typeof parsed.pid === 'number' && typeof parsed.startTime === 'string'
        ? { pid: parsed.pid, startTime: parsed.startTime }
        : undefined;
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
