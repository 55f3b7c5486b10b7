import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { claimLoopbackBlock } from './loopback-block.ts';

const dirs: string[] = [];
const blockDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'kok-blocks-test-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A pid that surely belongs to no process: one that just exited. */
function deadPid(): number {
  const child = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' });
  return Number(child.stdout.trim());
}

describe('claimLoopbackBlock', () => {
  it('gives concurrent claimers different blocks, recording the owner pid, and frees a block on release', () => {
    const dir = blockDir();
    const first = claimLoopbackBlock(dir);
    const second = claimLoopbackBlock(dir);
    expect([first.block, second.block]).toEqual([1, 2]);
    expect(readFileSync(join(dir, '1'), 'utf8')).toBe(String(process.pid));
    first.release();
    first.release(); // twice is harmless
    expect(existsSync(join(dir, '1'))).toBe(false);
    expect(claimLoopbackBlock(dir).block).toBe(1);
    expect(existsSync(join(dir, '2'))).toBe(true);
  });

  it('takes over a block whose owner is gone, and leaves no stale file behind', () => {
    const dir = blockDir();
    writeFileSync(join(dir, '1'), String(deadPid()));
    writeFileSync(join(dir, '2'), 'not a pid');
    expect(claimLoopbackBlock(dir).block).toBe(1);
    expect(claimLoopbackBlock(dir).block).toBe(2);
    expect(readdirSync(dir).sort()).toEqual(['1', '2']);
  });

  it('never takes a block of a live owner, and says so when every block is held', () => {
    const dir = blockDir();
    for (let block = 1; block <= 255; block++) writeFileSync(join(dir, String(block)), String(process.ppid));
    expect(() => claimLoopbackBlock(dir)).toThrow(/every loopback block .* is claimed by a live pod runtime/);
    rmSync(join(dir, '200'));
    expect(claimLoopbackBlock(dir).block).toBe(200);
  });
});
