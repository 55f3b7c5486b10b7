/** Whether a container's process is started again after it exits, by the pod's restartPolicy. Pure. */

/** A pod's `spec.restartPolicy`; the apiserver defaults it to Always. */
export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

/** The policy of a pod spec's value: what the apiserver defaults an unset or unknown one to. */
export function restartPolicyOf(value: string | undefined): RestartPolicy {
  return value === 'OnFailure' || value === 'Never' ? value : 'Always';
}

/** Always restarts; OnFailure only after a non-zero exit; Never does not. */
export function restartsAfterExit(policy: RestartPolicy, exitCode: number): boolean {
  if (policy === 'Always') return true;
  if (policy === 'OnFailure') return exitCode !== 0;
  return false;
}
