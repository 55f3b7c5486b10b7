/**
 * spec.versionCheck: the version a component's own binary reports, so the
 * Machine shows what really runs rather than the name of the directory it
 * was unpacked into. Parsing and comparing are pure; running is one execFile.
 */
import type { Component } from '@kok/api';
import { runHostCommand } from './host-command.ts';

export type VersionCheckSpec = NonNullable<Component['spec']['versionCheck']>;

/** What a check found: the version the binary reports, or why none could be read. */
export type VersionReport = { readonly reported: string } | { readonly error: string };

/** The first thing in the output that looks like a version: 1.2.3, v1.2.3, 2.0.0-rc.1+abc. */
const DEFAULT_PATTERN = /\bv?(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?)/;

/** The version `output` reports: `pattern`'s first capture group, else the first version-looking token. */
export function parseReportedVersion(output: string, pattern: string | undefined): VersionReport {
  let regex: RegExp;
  try {
    regex = pattern ? new RegExp(pattern) : DEFAULT_PATTERN;
  } catch (error) {
    return { error: `versionCheck.pattern does not compile: ${(error as Error).message}` };
  }
  const match = regex.exec(output);
  const reported = match?.[1] ?? match?.[0];
  if (!reported) {
    const shown = output.trim().split('\n')[0]?.slice(0, 120) ?? '';
    return { error: `no version in its output${shown ? ` ("${shown}")` : ''}` };
  }
  return { reported };
}

/** Versions are the same with or without a leading v (Kubernetes says v1.36.3, containerd 2.2.9). */
export function sameVersion(reported: string, expected: string): boolean {
  const bare = (v: string) => v.trim().replace(/^v/, '');
  return bare(reported) === bare(expected);
}

/** Runs the check's command (host variables expanded) and reads the version from stdout and stderr. */
export async function runVersionCheck(
  check: VersionCheckSpec,
  expand: (text: string) => string,
  onHost?: (argv: readonly string[]) => string[],
  timeoutMs = 10_000,
): Promise<VersionReport> {
  const result = await runHostCommand(check.command, expand, timeoutMs, onHost);
  if (!result.ok) return { error: `${result.program} ${result.failure}` };
  return parseReportedVersion(`${result.stdout}\n${result.stderr}`, check.pattern);
}
