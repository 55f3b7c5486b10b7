/**
 * One interface over the ways a host runs a service: systemd on real hosts,
 * the built-in supervisor in tests and demos. Every method is idempotent.
 */
export interface ServiceDefinition {
  /** The component name; also names the log and pid files of supervised processes. */
  readonly name: string;
  /** A systemd unit the host already has (its unit file usually arrives as a Machine file). */
  readonly unit?: string | undefined;
  /** A command line, `$(KOK_ROOT)` and `$(KOK_NODE_NAME)` already expanded. */
  readonly command?: readonly string[] | undefined;
  /** Extra environment of the process. Default: none. */
  readonly env?: Readonly<Record<string, string>> | undefined;
}

export interface ServiceStatus {
  readonly running: boolean;
  readonly pid?: number | undefined;
  /** How often the process exited and was started again by the manager. */
  readonly restarts: number;
}

export interface ServiceManager {
  readonly kind: 'systemd' | 'supervisor';
  /** Starts the service unless it runs already with this definition. */
  start(service: ServiceDefinition): Promise<void>;
  restart(service: ServiceDefinition): Promise<void>;
  /** Asks the service to re-read its configuration (SIGHUP / systemctl reload). */
  reload(service: ServiceDefinition): Promise<void>;
  stop(service: ServiceDefinition): Promise<void>;
  /**
   * For a component that left the Machine: stops the service for good and deletes the definition the manager
   * made for it (a generated unit, a pid file). A unit the host has is stopped and disabled, its file left to
   * whoever wrote it. Nothing to do for a service that does not exist.
   */
  remove(service: ServiceDefinition): Promise<void>;
  status(service: ServiceDefinition): Promise<ServiceStatus>;
  /** Stops watching; the services keep running (a restarted agent takes them over). */
  close(): Promise<void>;
}
