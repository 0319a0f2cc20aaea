import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The node's Prometheus metrics, in a registry of its own (several nodes can share a process in tests). */
export class NodeMetrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'allerac_http_requests_total',
    help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'allerac_http_request_duration_seconds',
    help: 'HTTP request duration, until the last byte of the response',
    labelNames: ['route', 'method'] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  readonly timeToFirstToken = new Histogram({
    name: 'allerac_time_to_first_token_seconds',
    help: 'Time from a generation request to its first chunk',
    labelNames: ['model', 'node'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [this.registry],
  });
  readonly tokens = new Counter({
    name: 'allerac_tokens_total',
    help: 'Tokens generated (eval_count) and read (prompt_eval_count), by model and serving node',
    labelNames: ['model', 'node', 'kind'] as const,
    registers: [this.registry],
  });
  readonly inflight = new Gauge({
    name: 'allerac_inflight_generations',
    help: 'Generations currently streaming through this node',
    registers: [this.registry],
  });
  readonly backendUp = new Gauge({
    name: 'allerac_backend_up',
    help: '1 when the local Ollama answers, 0 when unreachable',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'allerac_process_' });
  }
}
