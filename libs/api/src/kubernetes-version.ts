/** A Kubernetes version's major and minor. */
export interface MinorVersion {
  major: number;
  minor: number;
}

/**
 * `v1.36.3`, `1.36.0-rc.1+abc` → { major 1, minor 36 }; undefined when it is not a version of at
 * least three parts, which every version field's schema requires and every apiserver reports. The
 * one parser behind the control plane's upgrade rule, the etcd pairing and the kubelet skew check,
 * so they never disagree on what a version is.
 */
export function parseMinorVersion(version: string): MinorVersion | undefined {
  const match = /^v?([0-9]+)\.([0-9]+)\./.exec(version);
  return match ? { major: Number(match[1]), minor: Number(match[2]) } : undefined;
}

/** `to` is a later minor (or major) than `from`; false when either is not a version. */
export function isNewerMinor(from: string, to: string): boolean {
  const a = parseMinorVersion(from);
  const b = parseMinorVersion(to);
  return a !== undefined && b !== undefined && (b.major - a.major) * 1000 + (b.minor - a.minor) > 0;
}
