import { describe, expect, it } from 'vitest';
import { parseFlags } from './flags.ts';

describe('flags', () => {
  it('documents its defaults by applying them', () => {
    expect(parseFlags([], { NODE_NAME: 'n1' }, 'host')).toEqual({
      machine: 'n1',
      kubeconfig: undefined,
      bootstrapKubeconfig: undefined,
      certificateSeconds: 86400,
      root: '/',
      rootOnHost: '/',
      enterHostNamespaces: false,
      serviceManager: 'systemd',
      keepVersions: 2,
      heartbeatSeconds: 300,
      resyncSeconds: 60,
      httpHost: '127.0.0.1',
      httpPort: 10290,
      metricsAuth: 'kubernetes',
      logLevel: 'info',
      rebootCommand: 'systemctl reboot',
    });
    expect(parseFlags(['--reboot-command=simulate'], {}, 'h').rebootCommand).toBe('simulate');
    expect(parseFlags(['--metrics-auth=none'], {}, 'h').metricsAuth).toBe('none');
    expect(parseFlags([], {}, 'host').machine).toBe('host');
    expect(parseFlags(['--root', '/srv/h1'], {}, 'h').rootOnHost).toBe('/srv/h1');
    const relative = parseFlags(['--root', 'hosts/h1'], {}, 'h');
    expect([relative.root, relative.rootOnHost]).toEqual([
      `${process.cwd()}/hosts/h1`,
      `${process.cwd()}/hosts/h1`,
    ]);
    const inContainer = parseFlags(['--root=/host', '--root-on-host=/', '--enter-host-namespaces'], {}, 'h');
    expect([inContainer.root, inContainer.rootOnHost, inContainer.enterHostNamespaces]).toEqual([
      '/host',
      '/',
      true,
    ]);
  });

  it('refuses values a person should fix', () => {
    expect(() => parseFlags(['--service-manager', 'upstart'], {}, 'h')).toThrow(/systemd or supervisor/);
    expect(() => parseFlags(['--keep-versions', '0'], {}, 'h')).toThrow(
      /keep-versions must be an integer ≥ 1/,
    );
    expect(() => parseFlags(['--bogus'], {}, 'h')).toThrow();
    expect(() => parseFlags(['--reboot-command', ' '], {}, 'h')).toThrow(/reboot-command must not be empty/);
    expect(() => parseFlags(['--bootstrap-kubeconfig', '/b'], {}, 'h')).toThrow(/needs --kubeconfig/);
    expect(() => parseFlags(['--metrics-auth', 'token'], {}, 'h')).toThrow(/kubernetes or none/);
    expect(() => parseFlags(['--certificate-seconds', '60'], {}, 'h')).toThrow(/must be an integer ≥ 600/);
    expect(() => parseFlags(['--certificate-seconds', '604801'], {}, 'h')).toThrow(/at most 604800/);
    expect(() => parseFlags(['--root-on-host', 'host'], {}, 'h')).toThrow(
      /root-on-host must be an absolute path/,
    );
  });

  it('takes a bootstrap kubeconfig with the path where the issued certificate is kept', () => {
    expect(
      parseFlags(
        ['--bootstrap-kubeconfig', '/b', '--kubeconfig', '/k', '--certificate-seconds', '3600'],
        {},
        'h',
      ),
    ).toMatchObject({ bootstrapKubeconfig: '/b', kubeconfig: '/k', certificateSeconds: 3600 });
  });
});
