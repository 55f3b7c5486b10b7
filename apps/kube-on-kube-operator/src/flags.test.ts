import { describe, expect, it } from 'vitest';
import { parseBindAddress, parseFlags } from './flags.ts';

const digest = `sha256:${'ab'.repeat(32)}`;
const otherDigest = `sha256:${'cd'.repeat(32)}`;

describe('parseFlags', () => {
  it('has documented defaults', () => {
    expect(parseFlags([])).toEqual({
      metricsBindAddress: { host: '0.0.0.0', port: 8080 },
      metricsAuth: 'kubernetes',
      leaderElect: false,
      leaderElectionNamespace: 'kube-system',
      progressDeadlineSeconds: 600,
      maxConcurrentReconciles: 4,
      bizApiServerDial: 'endpoint',
      etcdDial: 'endpoint',
      imageDigests: new Map(),
      logLevel: 'info',
      help: false,
    });
  });

  it('reads every flag', () => {
    expect(
      parseFlags([
        '--kubeconfig=/tmp/kc',
        '--namespace',
        'fleet',
        '--metrics-bind-address=127.0.0.1:9090',
        '--metrics-auth=none',
        '--leader-elect',
        '--log-level=debug',
        '--progress-deadline-seconds=30',
        '--max-concurrent-reconciles=16',
        '--biz-apiserver-dial=pod-ip',
        '--etcd-dial=pod-ip',
        '--leaf-certificate-validity=2160h',
        '--certificate-renew-before=1h30m',
        `--image-digest=registry.k8s.io/kube-apiserver:v1.36.3@${digest}`,
        `--image-digest=registry.k8s.io/etcd:3.6.16-0@${otherDigest}`,
      ]),
    ).toEqual({
      kubeconfig: '/tmp/kc',
      namespace: 'fleet',
      metricsBindAddress: { host: '127.0.0.1', port: 9090 },
      metricsAuth: 'none',
      leaderElect: true,
      leaderElectionNamespace: 'fleet',
      progressDeadlineSeconds: 30,
      maxConcurrentReconciles: 16,
      bizApiServerDial: 'pod-ip',
      etcdDial: 'pod-ip',
      leafCertificateValiditySeconds: 2160 * 3600,
      certificateRenewBeforeSeconds: 5400,
      imageDigests: new Map([
        ['registry.k8s.io/kube-apiserver:v1.36.3', digest],
        ['registry.k8s.io/etcd:3.6.16-0', otherDigest],
      ]),
      logLevel: 'debug',
      help: false,
    });
  });

  it.each(['0', '-3', '1.5', 'ten'])(
    'refuses --progress-deadline-seconds=%s with the flag named',
    (value) => {
      expect(() => parseFlags([`--progress-deadline-seconds=${value}`])).toThrow(
        /--progress-deadline-seconds/,
      );
    },
  );

  it('refuses a --metrics-auth mode it does not know, naming the ones it does', () => {
    expect(() => parseFlags(['--metrics-auth=off'])).toThrow(/"off" is not one of kubernetes, none/);
  });

  it.each(['biz-apiserver-dial', 'etcd-dial'])(
    'refuses a --%s mode it does not know, naming the ones it does',
    (flag) => {
      expect(() => parseFlags([`--${flag}=dns`])).toThrow(`--${flag} "dns" is not one of endpoint, pod-ip`);
    },
  );

  it.each(['0s', '5d', '1.5h', ''])('refuses a certificate duration "%s"', (value) => {
    expect(() => parseFlags([`--leaf-certificate-validity=${value}`])).toThrow(
      /--leaf-certificate-validity .* is not a duration of at least 1s/,
    );
  });

  it('refuses an --image-digest that is not image:tag@sha256:…, or two digests for one image', () => {
    expect(() => parseFlags(['--image-digest=registry.k8s.io/kube-apiserver:v1.36.3'])).toThrow(
      /^--image-digest "registry.k8s.io\/kube-apiserver:v1.36.3" is not <image>:<tag>@sha256:/,
    );
    expect(() =>
      parseFlags([
        `--image-digest=registry.k8s.io/etcd:3.6.16-0@${digest}`,
        `--image-digest=registry.k8s.io/etcd:3.6.16-0@${otherDigest}`,
      ]),
    ).toThrow(`--image-digest gives registry.k8s.io/etcd:3.6.16-0 two digests: ${digest} and ${otherDigest}`);
  });

  it('refuses unknown flags', () => {
    expect(() => parseFlags(['--kubeconfg=x'])).toThrow(/kubeconfg/);
  });
});

describe('parseBindAddress', () => {
  it.each([
    [':8080', { host: '0.0.0.0', port: 8080 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['[::1]:9443', { host: '::1', port: 9443 }],
    ['0', false],
  ])('%s', (value, expected) => {
    expect(parseBindAddress(value)).toEqual(expected);
  });

  it('says what it expects', () => {
    expect(() => parseBindAddress('8080')).toThrow(/host:port/);
  });
});
