/**
 * The built-in service manager: starts each service as a detached process
 * group, appends its output to `<root>/var/log/kok/<name>.log`, restarts it
 * with exponential backoff when it exits, and records it in a pid file under
 * `<root>/run/kok/` so an agent restarted after a crash takes it over instead
 * of starting a second copy. Each process carries a marker naming the run
 * directory by device and inode, not by path: an agent that sees the host's
 * root under another path (in a container) still finds what an agent on the
 * host started.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync, statSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { isMissing, removeTempLeftovers, writeFileAtomic } from './atomic-file.ts';
import type { HostExecution } from './host-execution.ts';
import { HOST_PATH } from './host-execution.ts';
import type { ServiceDefinition, ServiceManager, ServiceStatus } from './service-manager.ts';
import { withoutAgentTuning } from './process-footprint.ts';
import { isAlive, oldestOf, parentOf, startTimeOf } from './process-identity.ts';

export interface ProcessSupervisorOptions {
  runDir: string;
  logDir: string;
  /** First restart delay after an exit. Default 500 ms; doubles per exit up to maxBackoffMs. */
  initialBackoffMs?: number;
  /** Default 30 s. */
  maxBackoffMs?: number;
  /** A process that ran this long resets the backoff. Default 10 s. */
  resetAfterMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL. Default 5 s. */
  stopTimeoutMs?: number;
  /** Default: silent. */
  logger?: Logger;
  /** Where services run: here (default), or in the host's namespaces for an agent in a container. */
  execution?: HostExecution;
}

/** Environment variable naming the supervisor (its run dir's device and inode) and service of a process. */
const SERVICE_MARKER = 'KOK_SUPERVISED_SERVICE';

interface PidRecord {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: tells our process from a later one that reused the pid. */
  startTime: string;
  command: readonly string[];
}

interface Supervised {
  service: ServiceDefinition;
  wanted: boolean;
  pid: number | undefined;
  child: ChildProcess | undefined;
  startedAt: number;
  backoffMs: number;
  restarts: number;
  timer: NodeJS.Timeout | undefined;
  exited: Promise<void> | undefined;
}

export class ProcessSupervisor implements ServiceManager {
  readonly kind = 'supervisor';
  readonly #options: ProcessSupervisorOptions;
  readonly #log: Logger;
  readonly #services = new Map<string, Supervised>();
  #poller: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: ProcessSupervisorOptions) {
    this.#options = options;
    this.#log = options.logger ?? pino({ level: 'silent' });
  }

  /**
   * Takes over the processes a previous agent started. They are found by the
   * marker in their environment, so even one started just before a crash,
   * before its pid file was written, is found (and not started twice).
   * Extra copies of a service are stopped; its children (which inherit the
   * marker, as containerd's shims do) are left alone.
   */
  async adopt(): Promise<string[]> {
    // A pid file half-written when the agent was killed: the process it named is found by its marker below.
    await removeTempLeftovers(this.#options.runDir);
    const found = new Map<string, number[]>();
    // The path form is what agents before the device-and-inode marker wrote.
    const prefixes = [
      serviceMarkerPrefix(this.#options.runDir),
      `${SERVICE_MARKER}=${this.#options.runDir}/`,
    ];
    for (const pid of await allPids()) {
      const marker = markerOf(pid, prefixes);
      if (marker) found.set(marker, [...(found.get(marker) ?? []), pid]);
    }
    const adopted: string[] = [];
    for (const [name, marked] of found) {
      const record = await this.#readPidFile(name);
      const recorded =
        record && marked.includes(record.pid) && startTimeOf(record.pid) === record.startTime
          ? record.pid
          : undefined;
      // The service's own children inherit its marker: a forked worker (its parent is marked) or a
      // daemon it started that runs another program (containerd's shims). A copy runs the same program.
      // Without a pid file, the service is the oldest: its daemons and any copy started after a crash are younger.
      const roots = marked.filter((pid) => !marked.includes(parentOf(pid) ?? 0));
      const pid = recorded ?? oldestOf(roots);
      if (pid === undefined) continue;
      const program = programOf(pid);
      for (const copy of roots.filter((other) => other !== pid && programOf(other) === program))
        signalGroup(copy, 'SIGKILL');
      if (this.#services.has(name)) continue;
      this.#services.set(name, {
        // Without a matching pid file the command is unknown: the next start() restarts it with the right one.
        service: { name, command: record?.pid === pid ? record.command : undefined },
        wanted: true,
        pid,
        child: undefined,
        startedAt: Date.now(),
        backoffMs: this.#initialBackoff(),
        restarts: 0,
        timer: undefined,
        exited: undefined,
      });
      adopted.push(name);
    }
    this.#ensurePoller();
    return adopted;
  }

  async #readPidFile(name: string): Promise<PidRecord | undefined> {
    try {
      return JSON.parse(await readFile(this.#pidFile(name), 'utf8')) as PidRecord;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async start(service: ServiceDefinition): Promise<void> {
    const existing = this.#services.get(service.name);
    if (existing?.pid !== undefined && isAlive(existing.pid)) {
      if (sameCommand(existing.service.command, service.command)) {
        existing.service = service;
        existing.wanted = true;
        return;
      }
      await this.stop(service);
    }
    const entry = this.#services.get(service.name);
    if (entry?.timer) clearTimeout(entry.timer);
    await this.#spawn(service, entry?.restarts ?? 0);
  }

  async restart(service: ServiceDefinition): Promise<void> {
    await this.stop(service);
    await this.#spawn(service, this.#services.get(service.name)?.restarts ?? 0);
  }

  async reload(service: ServiceDefinition): Promise<void> {
    const entry = this.#services.get(service.name);
    if (entry?.pid === undefined || !isAlive(entry.pid)) return this.start(service);
    process.kill(entry.pid, 'SIGHUP');
  }

  async stop(service: ServiceDefinition): Promise<void> {
    const entry = this.#services.get(service.name);
    if (!entry) return;
    entry.wanted = false;
    if (entry.timer) clearTimeout(entry.timer);
    const pid = entry.pid;
    if (pid !== undefined && isAlive(pid)) {
      signalGroup(pid, 'SIGTERM');
      const deadline = Date.now() + (this.#options.stopTimeoutMs ?? 5_000);
      while (isAlive(pid) && Date.now() < deadline) await delay(50);
      if (isAlive(pid)) signalGroup(pid, 'SIGKILL');
      while (isAlive(pid)) await delay(20);
    }
    await entry.exited;
    entry.pid = undefined;
    entry.child = undefined;
    await rm(this.#pidFile(service.name), { force: true });
  }

  async remove(service: ServiceDefinition): Promise<void> {
    await this.stop(service);
    this.#services.delete(service.name);
  }

  async status(service: ServiceDefinition): Promise<ServiceStatus> {
    const entry = this.#services.get(service.name);
    const running = entry?.pid !== undefined && isAlive(entry.pid);
    return { running, pid: running ? entry?.pid : undefined, restarts: entry?.restarts ?? 0 };
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#poller) clearInterval(this.#poller);
    for (const entry of this.#services.values()) {
      if (entry.timer) clearTimeout(entry.timer);
      entry.child?.unref();
    }
  }

  /** Stops every supervised process (tests and demos clean up with this). */
  async stopAll(): Promise<void> {
    for (const entry of [...this.#services.values()]) await this.stop(entry.service);
  }

  async #spawn(service: ServiceDefinition, restarts: number): Promise<void> {
    if (!service.command?.length)
      throw new Error(`service ${service.name} has no command; the supervisor runs Process services only`);
    mkdirSync(this.#options.logDir, { recursive: true });
    const log = openSync(join(this.#options.logDir, `${service.name}.log`), 'a');
    const [program, ...args] = (this.#options.execution?.command(service.command) ?? [
      ...service.command,
    ]) as [string, ...string[]];
    let child: ChildProcess;
    try {
      child = spawn(program, args, {
        detached: true,
        stdio: ['ignore', log, log],
        env: {
          // From a container, a service gets the host's search path, not the container's environment.
          ...(this.#options.execution?.entersHost ? { PATH: HOST_PATH } : withoutAgentTuning(process.env)),
          ...service.env,
          [SERVICE_MARKER]: `${serviceMarkerPrefix(this.#options.runDir).slice(SERVICE_MARKER.length + 1)}${service.name}`,
        },
      });
    } finally {
      closeSync(log);
    }
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid as number));
      child.once('error', (error) =>
        reject(new Error(`could not start ${service.name} (${program}): ${error.message}`)),
      );
    });
    const previous = this.#services.get(service.name);
    const entry: Supervised = {
      service,
      wanted: true,
      pid,
      child,
      startedAt: Date.now(),
      backoffMs: previous?.backoffMs ?? this.#initialBackoff(),
      restarts,
      timer: undefined,
      exited: new Promise((resolve) => child.once('exit', () => resolve())),
    };
    this.#services.set(service.name, entry);
    child.once('exit', (code, signal) => {
      if (this.#services.get(service.name) !== entry) return;
      this.#onExit(entry, `exit code ${code ?? '-'}, signal ${signal ?? '-'}`);
    });
    await writeFileAtomic(
      this.#pidFile(service.name),
      JSON.stringify({
        pid,
        startTime: startTimeOf(pid) ?? '',
        command: service.command,
      } satisfies PidRecord),
      0o600,
    );
    this.#log.info({ service: service.name, pid }, 'started');
  }

  #onExit(entry: Supervised, how: string): void {
    entry.pid = undefined;
    entry.child = undefined;
    if (!entry.wanted || this.#closed) return;
    const ranMs = Date.now() - entry.startedAt;
    if (ranMs >= (this.#options.resetAfterMs ?? 10_000)) entry.backoffMs = this.#initialBackoff();
    const wait = entry.backoffMs;
    entry.backoffMs = Math.min(entry.backoffMs * 2, this.#options.maxBackoffMs ?? 30_000);
    this.#log.warn({ service: entry.service.name, how, restartInMs: wait }, 'service exited; restarting');
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      if (!entry.wanted || this.#closed) return;
      this.#spawn(entry.service, entry.restarts + 1).catch((error: unknown) => {
        this.#log.error({ err: error, service: entry.service.name }, 'restart failed');
        this.#onExit(entry, 'failed to start');
      });
    }, wait);
  }

  /** Adopted processes are not our children: poll them to notice an exit. */
  #ensurePoller(): void {
    if (this.#poller) return;
    this.#poller = setInterval(() => {
      for (const entry of this.#services.values()) {
        if (!entry.child && entry.pid !== undefined && !isAlive(entry.pid))
          this.#onExit(entry, 'adopted process gone');
      }
    }, 500);
    this.#poller.unref();
  }

  #initialBackoff(): number {
    return this.#options.initialBackoffMs ?? 500;
  }

  #pidFile(name: string): string {
    return join(this.#options.runDir, `${name}.pid`);
  }
}

/**
 * `KOK_SUPERVISED_SERVICE=<device>:<inode>/`, then the service's name, in the environment of each process
 * a supervisor with this run directory starts: the same directory under any path, and no other.
 */
export function serviceMarkerPrefix(runDir: string): string {
  mkdirSync(runDir, { recursive: true });
  const { dev, ino } = statSync(runDir);
  return `${SERVICE_MARKER}=${dev}:${ino}/`;
}

async function allPids(): Promise<number[]> {
  return (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
}

/** The program a process runs (its argv[0]), or undefined when it is gone. */
function programOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
  } catch {
    return undefined;
  }
}

/** The service name in a process's marker, if it carries one for this run dir (any of `prefixes`). */
function markerOf(pid: number, prefixes: readonly string[]): string | undefined {
  try {
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    for (const prefix of prefixes) {
      const entry = environ.find((e) => e.startsWith(prefix));
      if (entry && isAlive(pid)) return entry.slice(prefix.length);
    }
    return undefined;
  } catch {
    return undefined;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

function sameCommand(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return JSON.stringify(a ?? []) === JSON.stringify(b ?? []);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
