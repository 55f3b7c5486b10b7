/** Prometheus metrics of one agent, on its own registry. */
import { Counter, Gauge, Registry } from 'prom-client';

export class AgentMetrics {
  readonly registry = new Registry();
  readonly converges = new Counter({
    name: 'kok_node_agent_converges_total',
    help: 'Convergence passes by result (noop, changed, failed).',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly statusWrites = new Counter({
    name: 'kok_node_agent_status_writes_total',
    help: 'Machine status writes by reason (change, heartbeat).',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly componentHealthy = new Gauge({
    name: 'kok_node_agent_component_healthy',
    help: '1 when the component passes its health check, 0 when it fails, -1 when unknown.',
    labelNames: ['component'],
    registers: [this.registry],
  });
  readonly fileDrift = new Counter({
    name: 'kok_node_agent_file_drift_total',
    help: 'Files found changed on the host and restored.',
    registers: [this.registry],
  });
  readonly checksumMismatches = new Counter({
    name: 'kok_node_agent_checksum_mismatches_total',
    help: 'Artifacts refused because their sha256 did not match the catalog.',
    registers: [this.registry],
  });
}
