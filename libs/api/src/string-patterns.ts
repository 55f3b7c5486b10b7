/**
 * The regular expressions behind the schema's string classes, free of the
 * schema libraries, so processes that only check strings where they use them
 * (the node agent through @kok/api/core) can share them.
 */

/** RFC 1123 label: what Kubernetes accepts as a Service or namespace name. */
export const DNS_LABEL_PATTERN = String.raw`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`;

/** A systemd unit name such as kubelet.service; it is passed to systemctl, so it cannot start with '-'. */
export const SYSTEMD_UNIT_PATTERN = String.raw`^[A-Za-z0-9_][A-Za-z0-9:_.@-]*\.(service|socket|target|timer|path|mount)$`;

/**
 * A relative file path whose parts do not start with a dot (so no `..`, no hidden files): a path a pod
 * is given inside a volume, which must not climb out of it.
 */
export const RELATIVE_PATH_PATTERN = String.raw`^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$`;
