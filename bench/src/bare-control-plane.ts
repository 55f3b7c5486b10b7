import { startControlPlane } from '@kok/testing';

/**
 * Seconds to start a bare etcd and kube-apiserver (the pinned binaries, as local processes, no
 * operator, no meta-cluster) and have the apiserver answer: what a Cluster's bring-up is judged against.
 */
export async function bareEtcdApiServerStartSeconds(): Promise<number> {
  const began = performance.now();
  const bare = await startControlPlane({});
  const seconds = (performance.now() - began) / 1000;
  await bare.stop();
  return seconds;
}
