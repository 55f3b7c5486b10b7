// An etcd member that loses its disk, as it happens: its pod goes with its volume claim, and the data on the
// volume is gone. The data is removed once the pod's process has stopped: removed under a running process,
// the pod runtime would restart that process on the emptied directory with the environment it started with
// (a kubelet reads it again), and it could bootstrap a member of its own there before its pod is gone.
import { rmSync } from 'node:fs';
import { eventually } from '@kok/testing';
import type { RealBoot } from './real-boot.ts';

/** Deletes member pod `member`'s claim (data-<member>) and pod, waits until the pod is gone, then its volume's data. */
export async function loseEtcdMemberVolume(boot: RealBoot, namespace: string, member: string): Promise<void> {
  const claimName = `data-${member}`;
  const claim = await boot.core.readNamespacedPersistentVolumeClaim({ name: claimName, namespace });
  const volume = await boot.core.readPersistentVolume({ name: claim.spec?.volumeName ?? '' });
  const data = volume.spec?.hostPath?.path;
  if (!data) throw new Error(`claim ${claimName} is not bound to a hostPath volume`);
  const pod = await boot.core.readNamespacedPod({ name: member, namespace });
  await boot.core.deleteNamespacedPersistentVolumeClaim({ name: claimName, namespace });
  await boot.core.deleteNamespacedPod({ name: member, namespace });
  await eventually(
    `pod ${member} (uid ${pod.metadata?.uid}) gone`,
    async () => {
      const now = await boot.core.readNamespacedPod({ name: member, namespace }).catch(() => undefined);
      return now?.metadata?.uid !== pod.metadata?.uid;
    },
    60_000,
    50,
  );
  rmSync(data, { recursive: true, force: true });
}
