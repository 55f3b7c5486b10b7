import { sharedKubeConfig } from '@kok/testing/vitest';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinTypes } from './builtin-types.ts';
import { KubeClient } from './kube-client.ts';
import { LeaderElector } from './leader-election.ts';
import { Manager } from './manager.ts';
import { configMap, eventually, freshNamespace } from './test-support.ts';

let client: KubeClient;
let ns: string;
const fast = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 300 };

beforeAll(async () => {
  client = new KubeClient(sharedKubeConfig(), { qps: 100, burst: 200 });
  ns = await freshNamespace(client, 'election');
});
afterAll(() => client?.close());

function candidate(identity: string, reconciled: string[]): Manager {
  const manager = new Manager({
    kubeConfig: sharedKubeConfig(),
    http: false,
    logger: pino({ level: 'silent' }),
    leaderElection: { namespace: ns, name: 'managers', identity, ...fast },
  });
  const configMaps = manager.informer(builtinTypes.configMap, { namespace: ns });
  manager
    .controller({
      name: 'recorder',
      reconcile: (request) => {
        reconciled.push(`${identity}:${request.name}`);
      },
    })
    .watchPrimary(configMaps);
  return manager;
}

describe('leader election on a Lease', () => {
  it('lets exactly one of two managers reconcile, and the other takes over when it stops', async () => {
    const reconciled: string[] = [];
    const a = candidate('a', reconciled);
    const b = candidate('b', reconciled);
    await a.start();
    await eventually('a to lead', () => a.isLeader());
    await b.start();
    await client.create(builtinTypes.configMap, configMap(ns, 'one'));
    await eventually('a reconcile of one', () => reconciled.includes('a:one'));
    await new Promise((r) => setTimeout(r, 1000));
    expect(b.isLeader()).toBe(false);
    expect(reconciled.filter((r) => r.startsWith('b:'))).toEqual([]);

    const stoppedAt = Date.now();
    await a.stop(); // graceful: releases the lease
    await eventually('b to lead', () => b.isLeader(), fast.leaseDurationMs + 2000);
    expect(Date.now() - stoppedAt).toBeLessThan(fast.leaseDurationMs + 1000);
    await client.create(builtinTypes.configMap, configMap(ns, 'two'));
    await eventually('b reconciles', () => reconciled.includes('b:two'));
    expect(reconciled).not.toContain('a:two');
    const lease = await client.get(builtinTypes.lease, { namespace: ns, name: 'managers' });
    expect(lease.spec?.holderIdentity).toBe('b');
    expect(lease.spec?.leaseTransitions).toBeGreaterThanOrEqual(1);
    await b.stop();
  });

  it('takes over from a leader that vanished without releasing, within the lease duration', async () => {
    const lease = { namespace: ns, name: 'crash' };
    const crashed = new AbortController();
    const first = new LeaderElector({ client, lease, identity: 'first', releaseOnCancel: false, ...fast });
    let firstLeading: AbortSignal | undefined;
    const firstRun = first.run(crashed.signal, (signal) => {
      firstLeading = signal;
    });
    await eventually('first to lead', () => first.isLeader());

    const stop = new AbortController();
    const second = new LeaderElector({ client, lease, identity: 'second', ...fast });
    let secondLedAt = 0;
    const secondRun = second.run(stop.signal, () => {
      secondLedAt = Date.now();
    });
    await new Promise((r) => setTimeout(r, fast.leaseDurationMs));
    expect(second.isLeader()).toBe(false);

    const crashAt = Date.now();
    crashed.abort(); // stops renewing, leaves the lease as it is
    await firstRun;
    expect(firstLeading?.aborted).toBe(true);
    await eventually('second to lead', () => second.isLeader(), 10_000);
    // It must wait out the lease from its own last observation: more than the
    // duration after the last renewal, and not much more.
    expect(secondLedAt - crashAt).toBeLessThan(fast.leaseDurationMs + 2_500);
    stop.abort();
    expect(await secondRun).toBe('stopped');
  });

  it('a leader that cannot renew stops leading within the renew deadline', async () => {
    const lease = { namespace: ns, name: 'stolen' };
    const stop = new AbortController();
    const elector = new LeaderElector({ client, lease, identity: 'victim', ...fast });
    let leadership: AbortSignal | undefined;
    const run = elector.run(stop.signal, (signal) => {
      leadership = signal;
    });
    await eventually('victim to lead', () => elector.isLeader());
    // Someone else overwrites the lease (an operator's mistake, or a partition healing).
    const current = await client.get(builtinTypes.lease, lease);
    await client.replace(builtinTypes.lease, {
      ...current,
      spec: {
        ...current.spec,
        holderIdentity: 'thief',
        leaseDurationSeconds: 60,
        renewTime: new Date().toISOString().replace('Z', '000Z') as unknown as Date,
      },
    });
    expect(await run).toBe('lost');
    expect(leadership?.aborted).toBe(true);
    stop.abort();
  });

  it('stops a manager whose lease was taken: done() resolves and it says it lost the lease', async () => {
    const manager = candidate('deposed', []);
    await manager.start();
    await eventually('deposed to lead', () => manager.isLeader());
    const lease = await client.get(builtinTypes.lease, { namespace: ns, name: 'managers' });
    await client.replace(builtinTypes.lease, {
      ...lease,
      spec: {
        ...lease.spec,
        holderIdentity: 'usurper',
        leaseDurationSeconds: 60,
        renewTime: new Date().toISOString().replace('Z', '000Z') as unknown as Date,
      },
    });
    const stopped = await Promise.race([
      manager.done().then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 15_000)),
    ]);
    expect(stopped, 'done() resolved after the lease was lost').toBe(true);
    expect(manager.leadershipLost).toBe(true);
    await client.delete(builtinTypes.lease, { namespace: ns, name: 'managers' });
  });

  it('keeps leading and reconciling past its first renewals with the default timings', async () => {
    const reconciled: string[] = [];
    const manager = new Manager({
      kubeConfig: sharedKubeConfig(),
      http: false,
      logger: pino({ level: 'silent' }),
      // Only what an app passes through from its flags: every timing left to the defaults.
      leaderElection: { namespace: ns, name: 'defaults', identity: 'solo' },
    });
    const configMaps = manager.informer(builtinTypes.configMap, { namespace: ns });
    manager
      .controller({ name: 'defaults', reconcile: (r) => void reconciled.push(r.name) })
      .watchPrimary(configMaps);
    await manager.start();
    await eventually('solo to lead', () => manager.isLeader());
    await new Promise((r) => setTimeout(r, 2 * 2000 + 500)); // two renew periods
    expect(manager.isLeader()).toBe(true);
    await client.create(builtinTypes.configMap, configMap(ns, 'after-renewals'));
    await eventually('reconcile after renewals', () => reconciled.includes('after-renewals'));
    await manager.stop();
  });
});
