// The stage on a meta-cluster whose controller-manager has just started: etcd's claim, made the moment the
// stage resolves, is bound at once, not at the volume binder's resync 15 s later.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api } from '@kubernetes/client-node';
import { eventually, startControlPlane, type ControlPlane } from '@kok/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageMetaCluster } from './meta-cluster-stage.ts';

const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const namespace = 'stage';

let controlPlane: ControlPlane;
let volumeDir: string;

beforeAll(async () => {
  controlPlane = await startControlPlane({ controllerManager: true });
  volumeDir = mkdtempSync(join(tmpdir(), 'kok-stage-volume-'));
});

afterAll(async () => {
  await controlPlane?.stop();
  if (volumeDir) rmSync(volumeDir, { recursive: true, force: true });
});

describe('stageMetaCluster', () => {
  it('resolves with the volume Available, so a claim made right after binds at once', async () => {
    await stageMetaCluster({
      controlPlane,
      crdsDir: join(repositoryRoot, 'crds'),
      namespace,
      volumePath: volumeDir,
    });
    const core = controlPlane.kubeConfig.makeApiClient(CoreV1Api);
    expect((await core.readPersistentVolume({ name: 'local-0' })).status?.phase).toBe('Available');

    await core.createNamespacedPersistentVolumeClaim({
      namespace,
      body: {
        metadata: { name: 'data-etcd-0' },
        spec: {
          storageClassName: 'local',
          accessModes: ['ReadWriteOnce'],
          resources: { requests: { storage: '1Gi' } },
        },
      },
    });
    // Well under the binder's 15 s resync: bound by the sync of the claim itself.
    const claim = await eventually(
      'the claim to be Bound',
      async () => {
        const read = await core.readNamespacedPersistentVolumeClaim({ namespace, name: 'data-etcd-0' });
        return read.status?.phase === 'Bound' && read;
      },
      10_000,
      100,
    );
    expect(claim.spec?.volumeName).toBe('local-0');
  });
});
