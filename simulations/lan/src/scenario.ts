/** What a scenario is, what it records, and the context it runs in. */
import { ScenarioAssertionError } from './errors.js';
import type { HostSpec } from './home.js';
import type { Lan } from './lan.js';

/** One measured figure. */
export interface Figure {
  name: string;
  value: number;
  unit: 'ms' | 'count' | '%' | 'MB';
}

/** Options a scenario can be run with. */
export interface ScenarioOptions {
  /** Number of hosts, for scenarios that take it (join, big-home). */
  nodes?: number;
}

/** Handed to a running scenario. */
export interface ScenarioContext {
  readonly lan: Lan;
  /** Progress line for the report. */
  log(line: string): void;
  /** Records a figure. */
  figure(name: string, value: number, unit?: Figure['unit']): void;
  /** Records a remark for the report (who served, a reason). */
  note(text: string): void;
}

/** A scenario as code: its home, its bound, and the steps with assertions. */
export interface Scenario {
  name: string;
  title: string;
  /** The home it needs; scenarios with equal homes share one LAN in a run of several. */
  home(options: ScenarioOptions): HostSpec[];
  /** Needs a LAN nobody has used yet (it measures the LAN's own start). */
  fresh?: boolean;
  /** Upper bound of the scenario's steps, LAN start excluded. */
  timeoutMs(options: ScenarioOptions): number;
  /**
   * Set while a feature it needs is not in the node yet: `--scenario all` and CI skip it and say
   * why; naming it alone still runs it (and it fails until the feature lands).
   */
  pending?: string;
  /** Why it cannot run here (a missing kernel feature), or undefined. */
  unavailable?(): string | undefined;
  run(ctx: ScenarioContext): Promise<void>;
}

/** The outcome of one scenario. */
export interface ScenarioResult {
  name: string;
  title: string;
  status: 'passed' | 'failed' | 'skipped';
  /** Why it failed or was skipped. */
  reason?: string;
  nodes: number;
  /** LAN start (when this scenario started one) and the scenario's own steps. */
  lanStartMs: number | null;
  durationMs: number;
  figures: Figure[];
  notes: string[];
}

/** Throws ScenarioAssertionError unless `condition` holds. */
export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ScenarioAssertionError(message);
}
