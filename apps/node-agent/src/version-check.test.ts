import { describe, expect, it } from 'vitest';
import { parseReportedVersion, runVersionCheck, sameVersion } from './version-check.ts';

describe('parseReportedVersion', () => {
  it.each([
    ['Kubernetes v1.36.3', undefined, '1.36.3'],
    ['containerd github.com/containerd/containerd/v2 v2.2.9 a1b2c3', undefined, '2.2.9'],
    ['runc version 1.1.12\ncommit: v1.1.12-0-g51d5e94', undefined, '1.1.12'],
    ['node-problem-detector v0.8.20-rc.1+dirty', undefined, '0.8.20-rc.1+dirty'],
    ['build 42 (release 7.1)', 'release (\\d+\\.\\d+)', '7.1'],
  ])('reads %j', (output, pattern, version) => {
    expect(parseReportedVersion(output, pattern)).toEqual({ reported: version });
  });

  it('says when there is no version, or the pattern is broken', () => {
    expect(parseReportedVersion('usage: kubelet [flags]\n…', undefined)).toEqual({
      error: 'no version in its output ("usage: kubelet [flags]")',
    });
    expect(parseReportedVersion('v1.2.3', '(unclosed')).toMatchObject({
      error: expect.stringMatching(/^versionCheck.pattern does not compile/),
    });
  });
});

describe('sameVersion', () => {
  it('ignores a leading v, nothing else', () => {
    expect(sameVersion('1.36.3', 'v1.36.3')).toBe(true);
    expect(sameVersion('v2.2.9', '2.2.9')).toBe(true);
    expect(sameVersion('1.36.2', 'v1.36.3')).toBe(false);
    expect(sameVersion('1.36.3-rc.1', 'v1.36.3')).toBe(false);
  });
});

describe('runVersionCheck', () => {
  it('runs the command with host variables expanded and reads its output', async () => {
    const expand = (text: string) => text.replace('$(KOK_ROOT)', '/');
    expect(
      await runVersionCheck({ command: ['/bin/sh', '-c', 'echo Kubernetes v1.36.3 >&2'] }, expand),
    ).toEqual({
      reported: '1.36.3',
    });
    expect(await runVersionCheck({ command: ['$(KOK_ROOT)bin/sh', '-c', 'exit 3'] }, expand)).toEqual({
      error: '/bin/sh exited 3',
    });
  });
});
