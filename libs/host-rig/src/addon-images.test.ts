import { mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  COREDNS_USER,
  hostPathEntries,
  IPTABLES_COMMANDS,
  iptablesLayer,
  KUBE_PROXY_PATH,
  machineIptablesBackend,
  packCoreDnsImage,
  packKubeProxyImage,
  parseLdd,
} from './addon-images.ts';

const scratch = mkdtempSync(join(tmpdir(), 'addon-images-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const binary = join(scratch, 'binary');
writeFileSync(binary, 'a static binary\n');

/** The image layout's index and the config of its (one) manifest. */
function layout(tarball: Buffer) {
  const files = new Map<string, Buffer>();
  for (let offset = 0; offset + 512 <= tarball.length;) {
    const header = tarball.subarray(offset, offset + 512);
    const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    if (!name) break;
    const size = parseInt(header.subarray(124, 136).toString('utf8').replace(/\0.*$/s, '').trim() || '0', 8);
    files.set(name, tarball.subarray(offset + 512, offset + 512 + size));
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  const json = (name: string) => JSON.parse(files.get(name)?.toString('utf8') ?? 'null') as unknown;
  const index = json('index.json') as {
    manifests: { digest: string; annotations: Record<string, string> }[];
  };
  const blob = (digest: string) => json(`blobs/sha256/${digest.slice('sha256:'.length)}`);
  const manifest = blob(index.manifests[0]?.digest ?? '') as { config: { digest: string } };
  const config = blob(manifest.config.digest) as { config: Record<string, unknown> };
  return { index, config: config.config };
}

describe('parseLdd', () => {
  it.each([
    [
      '\tlibxtables.so.12 => /lib/x86_64-linux-gnu/libxtables.so.12 (0x00007f21be02d000)',
      ['/lib/x86_64-linux-gnu/libxtables.so.12'],
    ],
    ['\tlinux-vdso.so.1 (0x00007f21be0f3000)', []],
    ['\t/lib64/ld-linux-x86-64.so.2 (0x00007f21be0f5000)', ['/lib64/ld-linux-x86-64.so.2']],
    ['\tstatically linked', []],
  ])('%s', (line, paths) => {
    expect(parseLdd(line)).toEqual(paths);
  });

  it('refuses a missing library', () => {
    expect(() => parseLdd('\tlibgone.so.1 => not found')).toThrow(/a library is missing: libgone.so.1/);
  });
});

describe('the kube-proxy image', () => {
  const options = { version: 'v1.36.3', binary, extraVersions: ['v1.36.4'] };

  it('is the same bytes for the same inputs', () => {
    expect(packKubeProxyImage(options).digest).toBe(packKubeProxyImage(options).digest);
  });

  it('carries every tag, one manifest, kube-proxy as its entrypoint', () => {
    const image = packKubeProxyImage(options);
    expect(image.references).toEqual([
      'registry.k8s.io/kube-proxy:v1.36.3',
      'registry.k8s.io/kube-proxy:v1.36.4',
    ]);
    const { index, config } = layout(image.tarball);
    expect(index.manifests.map((m) => m.annotations['io.containerd.image.name'])).toEqual(image.references);
    expect(new Set(index.manifests.map((m) => m.digest))).toEqual(new Set([image.digest]));
    expect(config['Entrypoint']).toEqual([KUBE_PROXY_PATH]);
  });

  it("holds the machine's iptables backend, its libraries and extensions, with the commands kube-proxy runs", () => {
    const backend = machineIptablesBackend();
    expect(realpathSync('/usr/sbin/iptables')).toBe(`/usr/sbin/xtables-${backend}-multi`);
    const layer = iptablesLayer(backend);
    const byPath = new Map(layer.map((entry) => [entry.path, entry]));
    for (const command of IPTABLES_COMMANDS)
      expect(byPath.get(`/usr/sbin/${command}`)).toEqual({
        type: 'symlink',
        path: `/usr/sbin/${command}`,
        target: `xtables-${backend}-multi`,
      });
    const files = layer.filter((entry) => entry.type === 'file').map((entry) => entry.path);
    expect(files).toContain(`/usr/sbin/xtables-${backend}-multi`);
    expect(files).toContain('/usr/lib/x86_64-linux-gnu/xtables/libxt_comment.so');
    expect(byPath.get('/usr/lib/x86_64-linux-gnu/xtables/libxt_MASQUERADE.so')?.type).toMatch(/file|symlink/);
    expect(files.some((path) => /\/libxtables\.so\.[\d.]+$/.test(path))).toBe(true);
    expect(files.some((path) => /\/libc\.so\.6$/.test(path))).toBe(true);
    // Parents come before what they hold, and a path appears once.
    const paths = layer.map((entry) => entry.path);
    expect(paths).toEqual([...new Set(paths)].sort());
  });
});

describe('hostPathEntries', () => {
  it('follows each symlink on the way (a link to a relative target included) to the file', () => {
    const link = join(scratch, 'link');
    writeFileSync(join(scratch, 'target'), 'x');
    symlinkSync('target', link);
    const entries = hostPathEntries(link);
    expect(entries).toContainEqual({ type: 'symlink', path: link, target: 'target' });
    expect(entries.at(-1)).toMatchObject({ type: 'file', path: join(realpathSync(scratch), 'target') });
  });
});

describe('the CoreDNS image', () => {
  it('runs /coredns as the non-root user upstream uses, reproducibly', () => {
    const image = packCoreDnsImage('v1.13.1', binary);
    expect(image.reference).toBe('registry.k8s.io/coredns/coredns:v1.13.1');
    expect(image.digest).toBe(packCoreDnsImage('v1.13.1', binary).digest);
    const { config } = layout(image.tarball);
    expect(config['Entrypoint']).toEqual(['/coredns']);
    expect(config['User']).toBe(`${COREDNS_USER}:${COREDNS_USER}`);
  });
});
