import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { replaceSymlinkAtomic, sha256OfFile, sha256Of, writeFileAtomic } from './atomic-file.ts';
import { expandHostVariables, hostPaths } from './host-paths.ts';

const dir = mkdtempSync(join(tmpdir(), 'kok-atomic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('atomic files', () => {
  it('writes content with exactly the mode asked for, whatever the umask, and leaves no temp file', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string(), fc.constantFrom(0o600, 0o644, 0o755, 0o400), async (content, mode) => {
        const path = join(dir, 'etc', 'file.conf');
        await writeFileAtomic(path, content, mode);
        expect(readFileSync(path, 'utf8')).toBe(content);
        expect(statSync(path).mode & 0o777).toBe(mode);
        expect(await sha256OfFile(path)).toBe(sha256Of(content));
        expect(readdirSync(join(dir, 'etc'))).toEqual(['file.conf']);
      }),
      { numRuns: 30 },
    );
  });

  it('replaces a symlink in one step', async () => {
    const link = join(dir, 'current');
    await replaceSymlinkAtomic(link, 'v1');
    await replaceSymlinkAtomic(link, 'v2');
    expect(readlinkSync(link)).toBe('v2');
  });
});

describe('host paths', () => {
  it('keeps every host path under the root', () => {
    const paths = hostPaths('/tmp/r');
    expect(paths.host('/etc/kubernetes/k.conf')).toBe('/tmp/r/etc/kubernetes/k.conf');
    expect(paths.versionDir('kubelet', 'v1.36.1')).toBe('/tmp/r/opt/kok/kubelet/v1.36.1');
    expect(() => paths.host('/../../etc/passwd')).toThrow(/escapes the root/);
    expect(() => paths.host('relative')).toThrow(/absolute/);
    expect(() => paths.versionDir('kubelet', '../x')).toThrow(/directory name/);
  });

  it('expands $(KOK_ROOT) and $(KOK_NODE_NAME)', () => {
    const vars = { root: '/tmp/r/', nodeName: 'n1' };
    expect(expandHostVariables('$(KOK_ROOT)/etc/x --node=$(KOK_NODE_NAME)', vars)).toBe(
      '/tmp/r/etc/x --node=n1',
    );
    expect(expandHostVariables('$(KOK_ROOT)/etc/x', { root: '/', nodeName: 'n' })).toBe('/etc/x');
  });

  it('expands $(KOK_NODE_IP) to the Machine address, and leaves it as written while there is none', () => {
    const text = '--node-ip=$(KOK_NODE_IP)';
    expect(expandHostVariables(text, { root: '/', nodeName: 'n', nodeIP: '10.213.0.10' })).toBe(
      '--node-ip=10.213.0.10',
    );
    expect(expandHostVariables(text, { root: '/', nodeName: 'n' })).toBe(text);
  });
});
