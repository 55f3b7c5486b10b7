import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hostPathProblem, hostPaths } from './host-paths.ts';

let root: string;
let outside: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'kok-host-paths-'));
  outside = mkdtempSync(join(tmpdir(), 'kok-host-paths-outside-'));
  mkdirSync(join(root, 'etc/kubernetes'), { recursive: true });
  writeFileSync(join(root, 'etc/kubernetes/admin.conf'), 'x');
  mkdirSync(join(root, 'run'));
  mkdirSync(join(root, 'var'));
  symlinkSync(outside, join(root, 'var/run')); // absolute, and outside the root
  symlinkSync('../run', join(root, 'var/lock')); // relative, inside the root
  symlinkSync(join(root, 'run'), join(root, 'var/tmp')); // absolute, inside the root
  symlinkSync('/nonexistent-kok-target', join(root, 'var/gone'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

describe('hostPathProblem', () => {
  it.each<[string, string, RegExp | undefined]>([
    ['a new file in an existing directory', '/etc/kubernetes/kubelet.conf', undefined],
    ['a file that exists', '/etc/kubernetes/admin.conf', undefined],
    ['a file under directories still to be created', '/etc/kok/a/b/c.conf', undefined],
    ['a file through a relative symlink inside the root', '/var/lock/kok/pid', undefined],
    ['a file through an absolute symlink that stays inside the root', '/var/tmp/kok.conf', undefined],
    ['an existing directory', '/etc/kubernetes', /^\/etc\/kubernetes is a directory on the host$/],
    ['a path ending with /', '/etc/kubernetes/new/', /ends with \/: it must name a file/],
    [
      'a parent that is a regular file',
      '/etc/kubernetes/admin.conf/x',
      /parent \/etc\/kubernetes\/admin\.conf is not a directory/,
    ],
    [
      'a parent that is a symlink leaving the root',
      '/var/run/kok/token',
      /parent \/var\/run leads outside the root/,
    ],
    [
      'a parent that is a dangling symlink',
      '/var/gone/x',
      /parent \/var\/gone is a symlink to \/nonexistent-kok-target, which does not exist/,
    ],
  ])('%s: %s', async (_, path, problem) => {
    const found = await hostPathProblem(hostPaths(root), path);
    if (problem) expect(found).toMatch(problem);
    else expect(found).toBeUndefined();
  });

  it('lets everything through under the root / (a host symlink such as /var/run -> /run is its own business)', async () => {
    expect(await hostPathProblem(hostPaths('/'), '/var/run/kok-agent-test-nothing-here')).toBeUndefined();
  });
});
