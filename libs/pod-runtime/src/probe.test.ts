import type { V1Container } from '@kubernetes/client-node';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { probeTarget, resolvePort, runProbe } from './probe.ts';

const container: V1Container = {
  name: 'etcd',
  ports: [
    { name: 'metrics', containerPort: 2381 },
    { name: 'https', containerPort: 6443 },
  ],
};

describe('probeTarget', () => {
  it.each([
    [
      { httpGet: { path: '/readyz', port: 'metrics', scheme: 'HTTP' } },
      { kind: 'http', url: 'http://127.1.0.1:2381/readyz', headers: {} },
    ],
    [
      { httpGet: { path: 'livez', port: 'https', scheme: 'HTTPS' } },
      { kind: 'http', url: 'https://127.1.0.1:6443/livez', headers: {} },
    ],
    [{ tcpSocket: { port: 2379 } }, { kind: 'tcp', host: '127.1.0.1', port: 2379 }],
    [{ exec: { command: ['true'] } }, { kind: 'exec', command: ['true'] }],
    [
      { httpGet: { path: '/', port: 'nope' } },
      { kind: 'invalid', reason: 'httpGet port nope is not a container port' },
    ],
    [{}, { kind: 'invalid', reason: 'the probe has no httpGet, tcpSocket or exec' }],
  ])('%j', (probe, target) => {
    expect(probeTarget(probe, container, '127.1.0.1')).toEqual(target);
  });

  it('resolves numeric strings and numbers as ports', () => {
    expect(resolvePort('8080', container)).toBe(8080);
    expect(resolvePort(9, container)).toBe(9);
    expect(resolvePort(undefined, container)).toBeUndefined();
  });
});

describe('runProbe', () => {
  it('passes on 2xx/3xx, fails on 5xx and on a closed port', async () => {
    let status = 200;
    const server = createServer((_, response) => response.writeHead(status).end());
    await new Promise<void>((resolve) => server.listen(0, '127.1.0.9', resolve));
    const port = (server.address() as AddressInfo).port;
    const probe = { httpGet: { path: '/readyz', port } };
    try {
      expect(await runProbe(probe, container, '127.1.0.9')).toBe(true);
      status = 503;
      expect(await runProbe(probe, container, '127.1.0.9')).toBe(false);
      expect(await runProbe({ tcpSocket: { port } }, container, '127.1.0.9')).toBe(true);
      // The same port on another pod's address: nothing listens there.
      expect(await runProbe({ tcpSocket: { port } }, container, '127.1.0.10')).toBe(false);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('runs exec probes with the container env', async () => {
    expect(
      await runProbe({ exec: { command: ['sh', '-c', 'test "$X" = yes'] } }, container, '127.1.0.1', {
        X: 'yes',
      }),
    ).toBe(true);
    expect(
      await runProbe({ exec: { command: ['sh', '-c', 'test "$X" = yes'] } }, container, '127.1.0.1', {
        X: 'no',
      }),
    ).toBe(false);
  });
});
