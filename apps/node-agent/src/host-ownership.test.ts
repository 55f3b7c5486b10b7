import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentProcess } from './host-ownership.ts';
import { HostOwnership, ownershipDecision } from './host-ownership.ts';
import { startTimeOf } from './process-identity.ts';

const log = pino({ level: 'silent' });
const me: AgentProcess = { pid: 10, startTime: '100' };
const other: AgentProcess = { pid: 20, startTime: '200' };

describe('ownershipDecision', () => {
  const onHost = { ...other, takesOver: false };
  const inPod = { ...other, takesOver: true };
  it.each([
    // [case, holder, holder alive, holder gone for (ms), this agent takes over, decision]
    ['nobody holds the host', undefined, false, 0, false, 'take'],
    ['nobody holds the host (taker)', undefined, false, 0, true, 'take'],
    ['this agent holds it', me, true, 0, false, 'held'],
    ['a dead agent on the host held it', onHost, false, 0, false, 'take'],
    ['a dead agent on the host held it (taker)', onHost, false, 0, true, 'take'],
    ['a live agent holds it: an agent on the host waits', onHost, true, 0, false, 'wait'],
    ['a live agent on the host holds it: an agent in a container takes over', onHost, true, 0, true, 'take'],
    ['a live agent in a container holds it: another one waits for it to exit', inPod, true, 0, true, 'wait'],
    ['a live agent in a container holds it: an agent on the host waits', inPod, true, 0, false, 'wait'],
    ['an agent pod just died: the agent on the host lets it come back', inPod, false, 29_999, false, 'wait'],
    [
      'an agent pod died a while ago: the agent on the host takes the host back',
      inPod,
      false,
      30_000,
      false,
      'take',
    ],
    ['an agent pod died: its replacement takes the host at once', inPod, false, 0, true, 'take'],
    ['a reused pid is another process', { pid: 10, startTime: '999' }, true, 0, false, 'wait'],
  ] as const)('%s', (_, holder, holderAlive, holderGoneForMs, takesOver, expected) => {
    expect(
      ownershipDecision({
        holder,
        self: me,
        holderAlive,
        holderGoneForMs,
        takesOver,
        takeBackAfterMs: 30_000,
      }),
    ).toBe(expected);
  });
});

describe('HostOwnership', () => {
  const dirs: string[] = [];
  const children: { kill: () => void }[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill();
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  async function runDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'ownership-'));
    dirs.push(dir);
    return dir;
  }

  /** A live process other than this one, standing in for another agent. */
  async function liveProcess(): Promise<AgentProcess> {
    const child = spawn('sleep', ['60']);
    children.push({ kill: () => child.kill('SIGKILL') });
    await new Promise((resolve) => child.once('spawn', resolve));
    return { pid: child.pid as number, startTime: startTimeOf(child.pid as number) ?? '' };
  }

  it('takes a free host, and one whose holder is dead', async () => {
    const dir = await runDir();
    await writeFile(join(dir, 'agent-owner.json'), JSON.stringify({ pid: 999_999, startTime: '1' }));
    const ownership = new HostOwnership({ runDir: dir, takesOver: false, log, pollMs: 10 });
    expect(await ownership.acquire(new AbortController().signal)).toBe(true);
    const owner = JSON.parse(await readFile(join(dir, 'agent-owner.json'), 'utf8')) as AgentProcess;
    expect(owner.pid).toBe(process.pid);
  });

  it('on the host, stands by while a live agent holds the host and takes it once that one is gone', async () => {
    const dir = await runDir();
    const holder = await liveProcess();
    await writeFile(join(dir, 'agent-owner.json'), JSON.stringify(holder));
    const ownership = new HostOwnership({ runDir: dir, takesOver: false, log, pollMs: 10 });
    let acquired = false;
    const acquiring = ownership.acquire(new AbortController().signal).then((held) => (acquired = held));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(acquired).toBe(false);
    process.kill(holder.pid, 'SIGKILL');
    expect(await acquiring).toBe(true);
  });

  it('in a container, takes the host over once the holder stood by, and the holder sees it lost the host', async () => {
    const dir = await runDir();
    const bootstrap = new HostOwnership({ runDir: dir, takesOver: false, log, pollMs: 10 });
    expect(await bootstrap.acquire(new AbortController().signal)).toBe(true);
    // Another process in the same directory: a taker that names a different process as itself.
    const taker = new HostOwnership({
      runDir: dir,
      takesOver: true,
      log,
      pollMs: 10,
      self: await liveProcess(),
    });
    let taken = false;
    const taking = taker.acquire(new AbortController().signal).then((held) => (taken = held));
    await bootstrap.lost(new AbortController().signal);
    // The taker waits for the previous holder (alive, this process) to stand by.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(taken).toBe(false);
    await bootstrap.standBy();
    expect(await taking).toBe(true);
    // The taker goes; the bootstrap agent takes the host back and no longer says it stands by.
    await writeFile(join(dir, 'agent-owner.json'), JSON.stringify({ pid: 999_999, startTime: '1' }));
    expect(await bootstrap.acquire(new AbortController().signal)).toBe(true);
    expect(existsSync(join(dir, 'agent-standby.json'))).toBe(false);
  });

  it('kills a previous holder that never stands by, after the release timeout', async () => {
    const dir = await runDir();
    const stuck = await liveProcess();
    await writeFile(join(dir, 'agent-owner.json'), JSON.stringify(stuck));
    const taker = new HostOwnership({ runDir: dir, takesOver: true, log, pollMs: 10, releaseTimeoutMs: 100 });
    expect(await taker.acquire(new AbortController().signal)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(startTimeOf(stuck.pid)).toBeUndefined();
  });

  it('on the host, takes the host back from a dead agent pod only once it stayed gone', async () => {
    const dir = await runDir();
    await writeFile(
      join(dir, 'agent-owner.json'),
      JSON.stringify({ pid: 999_999, startTime: '1', takesOver: true }),
    );
    const ownership = new HostOwnership({
      runDir: dir,
      takesOver: false,
      log,
      pollMs: 10,
      takeBackAfterMs: 300,
    });
    const began = Date.now();
    expect(await ownership.acquire(new AbortController().signal)).toBe(true);
    expect(Date.now() - began).toBeGreaterThanOrEqual(300);
  });

  it('in a container, leaves a host held by another live agent pod alone until that one exits', async () => {
    const dir = await runDir();
    const holder = await liveProcess();
    const record = JSON.stringify({ ...holder, takesOver: true });
    await writeFile(join(dir, 'agent-owner.json'), record);
    const taker = new HostOwnership({ runDir: dir, takesOver: true, log, pollMs: 10, releaseTimeoutMs: 50 });
    let taken = false;
    const taking = taker.acquire(new AbortController().signal).then((held) => (taken = held));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(taken).toBe(false);
    expect(await readFile(join(dir, 'agent-owner.json'), 'utf8')).toBe(record);
    expect(startTimeOf(holder.pid)).toBe(holder.startTime);
    process.kill(holder.pid, 'SIGKILL');
    expect(await taking).toBe(true);
  });

  it('a taker overtaken by another one stops waiting for the old holder and kills nobody', async () => {
    const dir = await runDir();
    const stuck = await liveProcess();
    await writeFile(join(dir, 'agent-owner.json'), JSON.stringify(stuck));
    const first = new HostOwnership({ runDir: dir, takesOver: true, log, pollMs: 10, releaseTimeoutMs: 200 });
    const stop = new AbortController();
    let taken = false;
    const taking = first.acquire(stop.signal).then((held) => (taken = held));
    await new Promise((resolve) => setTimeout(resolve, 50));
    // A second agent pod wrote after the first one: it holds the host now.
    const second = await liveProcess();
    await writeFile(join(dir, 'agent-owner.json'), JSON.stringify({ ...second, takesOver: true }));
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(startTimeOf(stuck.pid)).toBe(stuck.startTime);
    expect(taken).toBe(false);
    stop.abort();
    expect(await taking).toBe(false);
  });

  it('gives up waiting when stopped', async () => {
    const dir = await runDir();
    await writeFile(join(dir, 'agent-owner.json'), JSON.stringify(await liveProcess()));
    const ownership = new HostOwnership({ runDir: dir, takesOver: false, log, pollMs: 10 });
    const stop = new AbortController();
    const acquiring = ownership.acquire(stop.signal);
    stop.abort();
    expect(await acquiring).toBe(false);
  });
});
