import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from './fixtures/cluster.ts';
import { TEMP_PREFIX } from './atomic-file.ts';
import { ProcessSupervisor } from './process-supervisor.ts';

const dirs: string[] = [];
const supervisors: ProcessSupervisor[] = [];
afterEach(async () => {
  for (const s of supervisors.splice(0)) {
    await s.stopAll();
    await s.close();
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function supervisor() {
  const dir = mkdtempSync(join(tmpdir(), 'kok-supervisor-'));
  dirs.push(dir);
  const s = new ProcessSupervisor({
    runDir: join(dir, 'run'),
    logDir: join(dir, 'log'),
    initialBackoffMs: 100,
  });
  supervisors.push(s);
  return { s, dir };
}

const sleeper = (text: string) => ({
  name: 'sleeper',
  command: ['/bin/sh', '-c', `echo ${text}; exec sleep 30`],
});

describe('process supervisor', () => {
  it('starts once, keeps the output in a log file, and restarts a process that exits, with backoff', async () => {
    const { s, dir } = supervisor();
    await s.start(sleeper('hello'));
    await s.start(sleeper('hello'));
    const first = await s.status(sleeper('hello'));
    expect(first.running).toBe(true);
    process.kill(first.pid as number, 'SIGKILL');
    const second = await eventually('a restart', async () => {
      const status = await s.status(sleeper('hello'));
      return status.running && status.pid !== first.pid ? status : undefined;
    });
    expect(second.restarts).toBe(1);
    await eventually('two lines of output in the log', () =>
      readFileSync(join(dir, 'log', 'sleeper.log'), 'utf8').match(/hello/g)?.length === 2 ? true : undefined,
    );
  });

  it('lets a new supervisor take over running processes instead of starting a second copy', async () => {
    const { s, dir } = supervisor();
    await s.start(sleeper('a'));
    const pid = (await s.status(sleeper('a'))).pid;
    await s.close();
    const next = new ProcessSupervisor({ runDir: join(dir, 'run'), logDir: join(dir, 'log') });
    supervisors.push(next);
    expect(await next.adopt()).toEqual(['sleeper']);
    await next.start(sleeper('a'));
    expect((await next.status(sleeper('a'))).pid).toBe(pid);
    await next.stop(sleeper('a'));
    expect((await next.status(sleeper('a'))).running).toBe(false);
  });

  it('takes over what a supervisor started through another path to the same run directory (the host root seen from a container)', async () => {
    const { s, dir } = supervisor();
    await s.start(sleeper('a'));
    const pid = (await s.status(sleeper('a'))).pid;
    await s.close();
    symlinkSync(dir, join(dir, 'elsewhere'));
    const inContainer = new ProcessSupervisor({
      runDir: join(dir, 'elsewhere', 'run'),
      logDir: join(dir, 'elsewhere', 'log'),
    });
    supervisors.push(inContainer);
    expect(await inContainer.adopt()).toEqual(['sleeper']);
    await inContainer.start(sleeper('a'));
    expect((await inContainer.status(sleeper('a'))).pid).toBe(pid);
    // Another run directory at all is another host: nothing to take over there.
    const otherHost = supervisor();
    expect(await otherHost.s.adopt()).toEqual([]);
  });

  it('leaves alone what a service started that inherited its marker (as containerd its shims), taking over only the service', async () => {
    const { s, dir } = supervisor();
    // A daemon in its own session, orphaned at once: it runs another program than the service.
    const service = {
      name: 'runtime',
      command: ['/bin/sh', '-c', `(setsid tail -f /dev/null & echo $! > ${dir}/daemon) ; exec sleep 30`],
    };
    await s.start(service);
    const pid = (await s.status(service)).pid;
    const daemon = await eventually('the daemon started', () =>
      existsSync(join(dir, 'daemon')) ? Number(readFileSync(join(dir, 'daemon'), 'utf8')) : undefined,
    );
    try {
      await s.close();
      const next = new ProcessSupervisor({ runDir: join(dir, 'run'), logDir: join(dir, 'log') });
      supervisors.push(next);
      expect(await next.adopt()).toEqual(['runtime']);
      expect((await next.status(service)).pid).toBe(pid);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(() => process.kill(daemon, 0)).not.toThrow();
    } finally {
      process.kill(daemon, 'SIGKILL');
    }
  });

  it('runs a service where the host execution says, wrapped around its command', async () => {
    const { dir } = supervisor();
    const wrapped = new ProcessSupervisor({
      runDir: join(dir, 'run'),
      logDir: join(dir, 'log'),
      execution: {
        entersHost: true,
        rootOnHost: dir,
        command: (argv) => ['/bin/sh', '-c', 'echo wrapped; exec "$@"', 'wrapper', ...argv],
        hostPath: (path) => path,
      },
    });
    supervisors.push(wrapped);
    await wrapped.start(sleeper('inner'));
    await eventually('the wrapper ran, then the command', () =>
      readFileSync(join(dir, 'log', 'sleeper.log'), 'utf8') === 'wrapped\ninner\n' ? true : undefined,
    );
    // The wrapper execs: the supervised pid is the service's own, marked for adoption.
    const pid = (await wrapped.status(sleeper('inner'))).pid as number;
    await eventually('the service, not its wrapper, under the supervised pid', () =>
      readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep\0') ? true : undefined,
    );
  });

  it('removes a service a previous supervisor started: the process ends, its pid file goes, nothing restarts it', async () => {
    const { s, dir } = supervisor();
    await s.start(sleeper('a'));
    await s.close();
    const next = new ProcessSupervisor({
      runDir: join(dir, 'run'),
      logDir: join(dir, 'log'),
      initialBackoffMs: 50,
    });
    supervisors.push(next);
    await next.adopt();
    await next.remove({ name: 'sleeper' });
    await next.remove({ name: 'sleeper' });
    expect(existsSync(join(dir, 'run', 'sleeper.pid'))).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await next.status({ name: 'sleeper' })).toMatchObject({ running: false });
    // No process of it is left for a later agent to take over.
    const later = new ProcessSupervisor({ runDir: join(dir, 'run'), logDir: join(dir, 'log') });
    supervisors.push(later);
    expect(await later.adopt()).toEqual([]);
  });

  it('restarts with the new command when the definition changed', async () => {
    const { s } = supervisor();
    await s.start(sleeper('old'));
    const before = (await s.status(sleeper('old'))).pid;
    await s.start(sleeper('new'));
    const after = await s.status(sleeper('new'));
    expect(after.running).toBe(true);
    expect(after.pid).not.toBe(before);
  });

  it('removes a pid file a killed agent left half-written when it adopts', async () => {
    const { s, dir } = supervisor();
    mkdirSync(join(dir, 'run'), { recursive: true });
    const leftover = join(dir, 'run', `${TEMP_PREFIX}containerd.pid-0badc0de`);
    writeFileSync(leftover, '{"pid":');
    expect(await s.adopt()).toEqual([]);
    expect(existsSync(leftover)).toBe(false);
  });
});
