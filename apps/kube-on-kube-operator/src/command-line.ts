/**
 * Command lines of the control-plane binaries. Flags are `--name=value`, as
 * every Kubernetes binary and etcd take them.
 */

/** A flag list in the order it is rendered; later entries of the same name replace earlier ones. */
export type Flags = ReadonlyArray<readonly [name: string, value: string]>;

/**
 * Renders `base` flags, then the user's: `featureGates` becomes
 * `--feature-gates=A=true,B=false` (sorted), and `extraArgs` override a base
 * flag of the same name in place or are appended in name order. An explicit
 * `feature-gates` in extraArgs wins over featureGates, as kubeadm does.
 * Flags in `owned` keep their base value: the CRD refuses extraArgs that set
 * them, and an object stored before that rule must not rewire a component
 * to other certificates, etcd or address ranges.
 */
export function renderFlags(
  base: Flags,
  extraArgs: Readonly<Record<string, string>> = {},
  featureGates: Readonly<Record<string, boolean>> = {},
  owned: readonly string[] = [],
): string[] {
  const flags = new Map<string, string>();
  for (const [name, value] of base) flags.set(name, value);
  const gates = Object.entries(featureGates)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([gate, on]) => `${gate}=${on}`);
  if (gates.length > 0) flags.set('feature-gates', gates.join(','));
  for (const name of Object.keys(extraArgs).sort()) {
    const flagName = name.replace(/^-+/, '');
    if (owned.includes(flagName)) continue;
    flags.set(flagName, extraArgs[name] ?? '');
  }
  return [...flags].map(([name, value]) => `--${name}=${value}`);
}
