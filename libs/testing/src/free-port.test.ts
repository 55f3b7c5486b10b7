import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ephemeralPortRange, freePort } from './free-port.ts';

describe('freePort', () => {
  it('picks listenable ports outside the range outgoing connections take theirs from', async () => {
    const { low, high } = ephemeralPortRange();
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) expect(port < low || port > high, `port ${port}`).toBe(true);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(ports[0], '127.0.0.1', resolve));
    expect((server.address() as { port: number }).port).toBe(ports[0]);
    await new Promise((resolve) => server.close(resolve));
  });

  it('never hands out a port twice while its server may not have bound it yet', async () => {
    // A thousand random picks from the ~17k ports below the ephemeral range would repeat dozens of times.
    const ports: number[] = [];
    for (let pick = 0; pick < 1000; pick++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
  });
});
