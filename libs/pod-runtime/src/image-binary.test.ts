import { describe, expect, it } from 'vitest';
import { binaryForImage, commandForImage } from './image-binary.ts';

describe('binaryForImage', () => {
  it.each([
    ['registry.k8s.io/etcd:3.6.16-0', 'etcd'],
    ['registry.k8s.io/kube-apiserver:v1.36.3', 'kube-apiserver'],
    ['registry.k8s.io/kube-controller-manager:v1.36.3', 'kube-controller-manager'],
    ['registry.k8s.io/kube-scheduler:v1.36.3', 'kube-scheduler'],
    ['localhost:5000/mirror/kube-apiserver:v1.36.3', 'kube-apiserver'],
    ['registry.k8s.io/kube-apiserver@sha256:abc', 'kube-apiserver'],
    ['kube-scheduler', 'kube-scheduler'],
    ['registry.k8s.io/pause:3.10', undefined],
    ['registry.k8s.io/kube-apiserver-never-ready:v1', undefined],
    ['', undefined],
  ])('%s → %s', (image, binary) => {
    expect(binaryForImage(image)).toBe(binary);
  });
});

describe('commandForImage', () => {
  const extra = { 'node-operator': ['/usr/bin/node', '/src/node-operator/main.ts'] } as const;

  it.each([
    ['registry.k8s.io/kube-apiserver:v1.36.3', { name: 'kube-apiserver', argv: ['/bin/k8s/kube-apiserver'] }],
    [
      'ghcr.io/kok/node-operator:v0.1.0',
      { name: 'node-operator', argv: ['/usr/bin/node', '/src/node-operator/main.ts'] },
    ],
    ['ghcr.io/kok/node-agent:v0.1.0', undefined],
    ['registry.k8s.io/pause:3.10', undefined],
    // Object prototype names are not images.
    ['constructor', undefined],
  ])('%s → %j', (image, expected) => {
    expect(commandForImage(image, '/bin/k8s', extra)).toEqual(expected);
  });

  it("runs the build of an image's Kubernetes version from the version-keyed cache", () => {
    const cached = '/cache/kok/bin/v1.36.3';
    expect(commandForImage('registry.k8s.io/kube-apiserver:v1.36.3', cached)?.argv).toEqual([
      '/cache/kok/bin/v1.36.3/kube-apiserver',
    ]);
    expect(commandForImage('registry.k8s.io/kube-scheduler:v1.35.4', cached)?.argv).toEqual([
      '/cache/kok/bin/v1.35.4/kube-scheduler',
    ]);
    expect(commandForImage('localhost:5000/kube-apiserver:v1.35.4', cached)?.argv).toEqual([
      '/cache/kok/bin/v1.35.4/kube-apiserver',
    ]);
    // A version nobody built: its own directory, where the runtime finds no binary.
    expect(commandForImage('registry.k8s.io/kube-apiserver:v1.36.4-never-ready', cached)?.argv).toEqual([
      '/cache/kok/bin/v1.36.4-never-ready/kube-apiserver',
    ]);
    // etcd's own versions, an untagged or digest-only image: the binDir's build.
    expect(commandForImage('registry.k8s.io/etcd:3.6.16-0', cached)?.argv).toEqual([
      '/cache/kok/bin/v1.36.3/etcd',
    ]);
    expect(commandForImage('registry.k8s.io/kube-apiserver@sha256:abc', cached)?.argv).toEqual([
      '/cache/kok/bin/v1.36.3/kube-apiserver',
    ]);
    // Binaries the user brought (a directory not named after a version): one build per name.
    expect(commandForImage('registry.k8s.io/kube-apiserver:v1.35.4', '/opt/k8s')?.argv).toEqual([
      '/opt/k8s/kube-apiserver',
    ]);
  });

  it.each([
    [['etcdutl'], '/bin/k8s/etcdutl'],
    [['/usr/local/bin/etcdutl'], '/bin/k8s/etcdutl'],
    [['etcd'], '/bin/k8s/etcd'],
    [[], '/bin/k8s/etcd'],
    // A command the image does not hold as a tool of its own: the image's binary, as before.
    [['etcdctl'], '/bin/k8s/etcd'],
    [['sh', '-c', 'etcdutl version'], '/bin/k8s/etcd'],
  ])('the etcd image with command %j runs %s', (command, binary) => {
    expect(commandForImage('registry.k8s.io/etcd:3.6.16-0', '/bin/k8s', {}, command)).toEqual({
      name: binary.split('/').pop(),
      argv: [binary],
    });
  });

  it.each([
    ['registry.k8s.io/kube-apiserver:v1.36.3', '/cache/kok/bin/v1.36.3/kube-apiserver'],
    ['ghcr.io/kok/node-operator:v0.1.0', '/usr/bin/node'],
  ])('runs etcdutl only from the etcd image: %s with command etcdutl runs %s', (image, file) => {
    const cached = '/cache/kok/bin/v1.36.3';
    expect(commandForImage(image, cached, extra, ['etcdutl'])?.argv[0]).toBe(file);
  });

  it('runs only the control-plane binaries without extra images', () => {
    expect(commandForImage('ghcr.io/kok/node-operator:v0.1.0', '/bin/k8s')).toBeUndefined();
  });
});
