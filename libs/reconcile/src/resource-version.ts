/**
 * True when a cache that holds `cached` has seen the write that returned `written`, or something
 * newer. resourceVersions are opaque by contract, but every etcd-backed apiserver issues
 * increasing integers; when either is not an integer only equality counts.
 */
export function resourceVersionAtLeast(cached: string | undefined, written: string): boolean {
  if (cached === undefined) return false;
  if (cached === written) return true;
  if (/^\d+$/.test(cached) && /^\d+$/.test(written)) return BigInt(cached) >= BigInt(written);
  return false;
}
