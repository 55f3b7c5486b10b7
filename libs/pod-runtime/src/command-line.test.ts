import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bindToAddress, expandEnv, localArgs, remapPaths } from './command-line.ts';

describe('expandEnv', () => {
  it.each([
    ['--name=$(POD_NAME)', '--name=real-etcd-0'],
    ['--advertise-address=$(POD_IP)', '--advertise-address=127.1.0.2'],
    ['$(POD_NAME).real-etcd.biz.svc', 'real-etcd-0.real-etcd.biz.svc'],
    ['$(UNKNOWN)', '$(UNKNOWN)'],
    ['$$(POD_NAME)', '$(POD_NAME)'],
    ['no variables', 'no variables'],
    ['$(POD_NAME)-$(POD_IP)', 'real-etcd-0-127.1.0.2'],
  ])('%s → %s', (input, expected) => {
    expect(expandEnv(input, { POD_NAME: 'real-etcd-0', POD_IP: '127.1.0.2' })).toBe(expected);
  });

  it('leaves text without $( untouched', () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !s.includes('$')),
        (text) => expandEnv(text, { A: 'x' }) === text,
      ),
    );
  });

  it('substitutes any value verbatim, even one that looks like a reference', () => {
    fc.assert(fc.property(fc.string(), (value) => expandEnv('<$(V)>', { V: value }) === `<${value}>`));
  });
});

describe('remapPaths', () => {
  const mappings = [
    { mountPath: '/etc/kubernetes/pki', localPath: '/tmp/pod/volumes/pki' },
    { mountPath: '/var/lib/etcd', localPath: '/tmp/claims/biz/data' },
    { mountPath: '/etc/kubernetes/pki/etcd', localPath: '/tmp/pod/volumes/etcd-pki' },
  ];
  it.each([
    ['--client-ca-file=/etc/kubernetes/pki/ca.crt', '--client-ca-file=/tmp/pod/volumes/pki/ca.crt'],
    ['--data-dir=/var/lib/etcd', '--data-dir=/tmp/claims/biz/data'],
    ['/var/lib/etcd', '/tmp/claims/biz/data'],
    // The nested mount shadows its parent.
    ['--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt', '--etcd-cafile=/tmp/pod/volumes/etcd-pki/ca.crt'],
    [
      '--files=/var/lib/etcd/a,/etc/kubernetes/pki/b',
      '--files=/tmp/claims/biz/data/a,/tmp/pod/volumes/pki/b',
    ],
    // Not on a segment boundary, or not a path at all.
    ['--data-dir=/var/lib/etcd-backup', '--data-dir=/var/lib/etcd-backup'],
    ['--url=https://host/var/lib/etcd', '--url=https://host/var/lib/etcd'],
    ['--other=/etc/hosts', '--other=/etc/hosts'],
  ])('%s → %s', (input, expected) => {
    expect(remapPaths(input, mappings)).toBe(expected);
  });

  it('moves every file under a mount path under the local dir, keeping the rest of the path', () => {
    const segment = fc.stringMatching(/^[a-z0-9._-]{1,8}$/).filter((s) => s !== '.' && s !== '..');
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), (rest) => {
        const file = `/var/lib/etcd/${rest.join('/')}`;
        return remapPaths(`--flag=${file}`, mappings) === `--flag=/tmp/claims/biz/data/${rest.join('/')}`;
      }),
    );
  });
});

describe('bindToAddress', () => {
  it.each([
    ['etcd', ['--listen-client-urls=https://0.0.0.0:2379'], ['--listen-client-urls=https://127.1.0.1:2379']],
    [
      'etcd',
      ['--listen-metrics-urls=http://0.0.0.0:2381,http://[::]:2382'],
      ['--listen-metrics-urls=http://127.1.0.1:2381,http://127.1.0.1:2382'],
    ],
    [
      'etcd',
      ['--advertise-client-urls=https://real-etcd-0.real-etcd.biz.svc:2379'],
      ['--advertise-client-urls=https://real-etcd-0.real-etcd.biz.svc:2379'],
    ],
    ['kube-apiserver', ['--secure-port=6443'], ['--secure-port=6443', '--bind-address=127.1.0.1']],
    ['kube-apiserver', ['--bind-address=0.0.0.0'], ['--bind-address=127.1.0.1']],
    ['kube-scheduler', [], ['--bind-address=127.1.0.1']],
    ['kube-controller-manager', ['--bind-address=10.0.0.1'], ['--bind-address=10.0.0.1']],
  ] as const)('%s %j → %j', (binary, args, expected) => {
    expect(bindToAddress(binary, args, '127.1.0.1')).toEqual(expected);
  });

  it('never leaves a wildcard address in any listen URL', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 65535 }), fc.constantFrom('http', 'https'), (port, scheme) => {
        const [arg] = bindToAddress('etcd', [`--listen-peer-urls=${scheme}://0.0.0.0:${port}`], '127.9.9.9');
        return arg === `--listen-peer-urls=${scheme}://127.9.9.9:${port}`;
      }),
    );
  });
});

describe('localArgs', () => {
  it('drops the image binary, expands, remaps and binds, in that order', () => {
    expect(
      localArgs({
        binary: 'kube-apiserver',
        command: ['kube-apiserver'],
        args: ['--advertise-address=$(POD_IP)', '--tls-cert-file=$(PKI)/apiserver.crt'],
        env: { POD_IP: '127.1.0.2', PKI: '/etc/kubernetes/pki' },
        mappings: [{ mountPath: '/etc/kubernetes/pki', localPath: '/tmp/p' }],
        podIP: '127.1.0.2',
      }),
    ).toEqual([
      '--advertise-address=127.1.0.2',
      '--tls-cert-file=/tmp/p/apiserver.crt',
      '--bind-address=127.1.0.2',
    ]);
  });

  it("moves an etcd restore's snapshot and data dir to the member's claims, and leaves its peer URLs alone", () => {
    expect(
      localArgs({
        binary: 'etcdutl',
        command: ['etcdutl'],
        args: [
          'snapshot',
          'restore',
          '/snapshot/prod-etcd-0.db',
          '--name',
          'prod-etcd-0',
          '--initial-cluster',
          'prod-etcd-0=https://prod-etcd-0.prod-etcd.biz.svc:2380',
          '--initial-cluster-token',
          'prod-etcd',
          '--initial-advertise-peer-urls',
          'https://prod-etcd-0.prod-etcd.biz.svc:2380',
          '--data-dir',
          '/var/lib/etcd',
        ],
        env: {},
        mappings: [
          { mountPath: '/var/lib/etcd', localPath: '/state/claims/biz/data-prod-etcd-0' },
          { mountPath: '/snapshot', localPath: '/state/claims/biz/prod-etcd-snapshots' },
        ],
        podIP: '127.1.0.9',
      }),
    ).toEqual([
      'snapshot',
      'restore',
      '/state/claims/biz/prod-etcd-snapshots/prod-etcd-0.db',
      '--name',
      'prod-etcd-0',
      '--initial-cluster',
      'prod-etcd-0=https://prod-etcd-0.prod-etcd.biz.svc:2380',
      '--initial-cluster-token',
      'prod-etcd',
      '--initial-advertise-peer-urls',
      'https://prod-etcd-0.prod-etcd.biz.svc:2380',
      '--data-dir',
      '/state/claims/biz/data-prod-etcd-0',
    ]);
  });
});
