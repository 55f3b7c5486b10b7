/**
 * How long a kube-apiserver pod takes to go away, so that it can be given the time. On SIGTERM the
 * apiserver keeps serving for --shutdown-delay-duration while its /readyz fails: the pod, terminating,
 * leaves its Service's EndpointSlices and kube-proxy's rules before the apiserver stops listening, and no
 * client behind the Service is refused. Then it stops taking requests and drains those in flight (bounded
 * by --request-timeout) and, when --shutdown-watch-termination-grace-period is set, its watches, both at
 * once; then it exits. The pod's terminationGracePeriodSeconds must cover all of it, or the kubelet's
 * SIGKILL cuts the drain short.
 */
import { goDurationMs } from '@kok/api';
import type { APISERVER_SHUTDOWN_DURATION_FLAGS } from '@kok/api';

type ShutdownFlag = (typeof APISERVER_SHUTDOWN_DURATION_FLAGS)[number];

/** The apiserver's own defaults, what it runs with when its command line does not name the flag. */
const DEFAULTS: Readonly<Record<ShutdownFlag, string>> = {
  'shutdown-delay-duration': '0s',
  'request-timeout': '1m0s',
  'shutdown-watch-termination-grace-period': '0s',
};

/**
 * For what the apiserver does besides: the pre-shutdown hooks (it takes itself out of the `kubernetes`
 * Endpoints), the HTTP server's own close (2 s with --shutdown-send-retry-after), the audit flush, exit.
 */
const EXIT_MARGIN_SECONDS = 5;

/** The last value of `--flag=` on a command line, as the apiserver's flag parsing takes it. */
function flagValue(args: readonly string[], flag: string): string | undefined {
  const prefix = `--${flag}=`;
  return args.findLast((arg) => arg.startsWith(prefix))?.slice(prefix.length);
}

/**
 * A shutdown flag in milliseconds. A value that is not a duration counts as the default: the CRD refuses
 * one, and the apiserver of a Cluster stored before that rule refuses it too and never starts (its old
 * pods keep serving, the rollout stalls), so no pod of it runs long enough to need this grace period.
 */
function flagMs(args: readonly string[], flag: ShutdownFlag): number {
  const ms = goDurationMs(flagValue(args, flag) ?? DEFAULTS[flag]);
  return Number.isNaN(ms) ? goDurationMs(DEFAULTS[flag]) : ms;
}

/**
 * terminationGracePeriodSeconds for a kube-apiserver run with `args`: its shutdown delay, then the longer
 * of its two drains (they run at once), then a margin to exit. 70 s with the operator's flags alone (5 s,
 * the 1 min default request timeout, 5 s).
 */
export function apiServerTerminationGraceSeconds(args: readonly string[]): number {
  const drainMs = Math.max(
    flagMs(args, 'request-timeout'),
    flagMs(args, 'shutdown-watch-termination-grace-period'),
  );
  return Math.ceil((flagMs(args, 'shutdown-delay-duration') + drainMs) / 1000) + EXIT_MARGIN_SECONDS;
}
