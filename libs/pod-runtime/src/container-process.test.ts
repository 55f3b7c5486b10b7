import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canUsePrivateMounts } from './local-pod-runtime.ts';
import { ContainerProcess, launchCommand } from './container-process.ts';

describe('launchCommand', () => {
  it('runs the binary directly without a hosts file, inside unshare with one', () => {
    expect(
      launchCommand({ file: '/bin/etcd', args: ['--a'], env: {}, hostsFile: undefined, logFile: '' }),
    ).toEqual({ file: '/bin/etcd', args: ['--a'] });
    const wrapped = launchCommand({
      file: '/bin/etcd',
      args: ['--a'],
      env: {},
      hostsFile: '/tmp/hosts',
      logFile: '',
    });
    expect(wrapped.file).toBe('unshare');
    expect(wrapped.args.slice(-3)).toEqual(['/tmp/hosts', '/bin/etcd', '--a']);
  });
});

describe('ContainerProcess', () => {
  it('sees the private hosts file as /etc/hosts, leaves the host one alone, and restarts after an exit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kok-process-test-'));
    const hostsFile = join(dir, 'hosts');
    writeFileSync(hostsFile, '127.1.2.3 real-apiserver.biz.svc\n');
    const privateHosts = canUsePrivateMounts();
    const process = new ContainerProcess({
      file: '/bin/sh',
      args: ['-c', 'cat /etc/hosts; exit 3'],
      env: {},
      hostsFile: privateHosts ? hostsFile : undefined,
      logFile: join(dir, 'log'),
    });
    try {
      process.start();
      await expect.poll(() => process.restartCount, { timeout: 5000 }).toBeGreaterThanOrEqual(1);
      expect(process.lastExit?.exitCode).toBe(3);
      if (privateHosts)
        expect(readFileSync(join(dir, 'log'), 'utf8')).toContain('127.1.2.3 real-apiserver.biz.svc');
      expect(readFileSync('/etc/hosts', 'utf8')).not.toContain('real-apiserver.biz.svc');
    } finally {
      await process.stop(1000);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ContainerProcess restart policies', () => {
  const run = async (restartPolicy: 'OnFailure' | 'Never', script: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'kok-process-test-'));
    const process = new ContainerProcess({
      file: '/bin/sh',
      args: ['-c', script, 'sh', join(dir, 'ran-before')],
      env: {},
      hostsFile: undefined,
      logFile: join(dir, 'log'),
      restartPolicy,
    });
    try {
      process.start();
      await expect.poll(() => process.finished, { timeout: 5000 }).toBe(true);
      return { restartCount: process.restartCount, lastExit: process.lastExit, running: process.running };
    } finally {
      await process.stop(1000);
      rmSync(dir, { recursive: true, force: true });
    }
  };
  // Fails the first time it runs, succeeds the next.
  const failsOnce = 'if [ -e "$1" ]; then exit 0; fi; touch "$1"; exit 4';

  it('Never: an exit is final, whatever its code', async () => {
    const exited = await run('Never', failsOnce);
    expect(exited).toMatchObject({ restartCount: 0, running: false, lastExit: { exitCode: 4 } });
    expect(exited.lastExit?.finishedAt.getTime()).toBeGreaterThanOrEqual(
      exited.lastExit?.startedAt.getTime() ?? Infinity,
    );
  });

  it('OnFailure: restarted after a failure, final after a success', async () => {
    expect(await run('OnFailure', failsOnce)).toMatchObject({
      restartCount: 1,
      running: false,
      lastExit: { exitCode: 0 },
    });
  });
});
