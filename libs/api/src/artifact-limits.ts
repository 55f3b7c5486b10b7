/**
 * Bounds of a Component artifact download, shared by the CRD schema and the
 * node agent (which imports them through `@kok/api/core`, without the schemas).
 */

/**
 * The download cap when a Component sets none: 512 MiB. The largest artifacts
 * a node runs today (a kubelet binary, a containerd release tarball, an image
 * tarball of a node DaemonSet) are a few hundred MiB at most, so the default
 * fits them and still bounds what a wrong or hostile server can make every
 * host write to disk.
 */
export const DEFAULT_ARTIFACT_MAX_SIZE_BYTES = 512 * 1024 * 1024;

/** The largest cap a Component may set: 16 GiB, so no typo means "unbounded". */
export const MAX_ARTIFACT_MAX_SIZE_BYTES = 16 * 1024 * 1024 * 1024;
