import { describe, expect, it } from 'vitest';
import { stackSteps } from './stack-steps.ts';

describe('stackSteps', () => {
  it('prints each step with its own time and the time since the start', async () => {
    const lines: string[] = [];
    const steps = stackSteps((line) => lines.push(line));
    steps.step('first');
    await new Promise((resolve) => setTimeout(resolve, 120));
    steps.step('second');
    expect(lines[0]).toMatch(/^first \(0\.\ds; at 0\.\ds\)$/);
    const [, took, at] = /^second \((\d+\.\d)s; at (\d+\.\d)s\)$/.exec(lines[1] ?? '') ?? [];
    expect(Number(took)).toBeGreaterThanOrEqual(0.1);
    expect(Number(at)).toBeGreaterThanOrEqual(Number(took));
  });

  it('stops what started last first, reports a failed stop and goes on', async () => {
    const lines: string[] = [];
    const stopped: string[] = [];
    const steps = stackSteps((line) => lines.push(line));
    steps.onStop('the meta-cluster', async () => stopped.push('meta'));
    steps.onStop('the operator', async () => {
      throw new Error('already gone');
    });
    steps.onStop('the proxy', async () => stopped.push('proxy'));
    await steps.stopAll();
    expect(stopped).toEqual(['proxy', 'meta']);
    expect(lines.some((l) => l === 'stopping the operator failed: Error: already gone')).toBe(true);
    // Nothing is stopped twice.
    await steps.stopAll();
    expect(stopped).toEqual(['proxy', 'meta']);
  });
});
