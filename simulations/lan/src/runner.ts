/** Runs scenarios on LANs, sharing one LAN between consecutive scenarios on the same home. */

import { LanTimeoutError } from './errors.js';
import type { HostSpec } from './home.js';
import { type Lan, type LanOptions, startLan } from './lan.js';
import type { Figure, Scenario, ScenarioContext, ScenarioOptions, ScenarioResult } from './scenario.js';

/** Options of {@link runScenarios}. */
export interface RunOptions extends ScenarioOptions {
  log?: (line: string) => void;
  /** Passed to startLan. */
  lan?: Omit<LanOptions, 'log'>;
}

const homeKey = (home: HostSpec[]) => JSON.stringify(home);

/** Runs `scenarios` in order; never throws for a failed scenario (it is in the results), always tears down. */
export async function runScenarios(
  scenarios: readonly Scenario[],
  options: RunOptions = {},
): Promise<ScenarioResult[]> {
  const log = options.log ?? (() => {});
  const results: ScenarioResult[] = [];
  let lan: Lan | undefined;
  let lanHome = '';
  let used = false;
  try {
    for (const scenario of scenarios) {
      const home = scenario.home(options);
      const result: ScenarioResult = {
        name: scenario.name,
        title: scenario.title,
        status: 'passed',
        nodes: home.length,
        lanStartMs: null,
        durationMs: 0,
        figures: [],
        notes: [],
      };
      results.push(result);
      const unavailable =
        scenarios.length > 1 && scenario.pending !== undefined
          ? `pending: ${scenario.pending}`
          : scenario.unavailable?.();
      if (unavailable !== undefined) {
        result.status = 'skipped';
        result.reason = unavailable;
        log(`- ${scenario.name}: SKIPPED (${unavailable})`);
        continue;
      }
      log(`- ${scenario.name}: ${scenario.title}`);
      try {
        if (lan !== undefined && (lanHome !== homeKey(home) || scenario.fresh === true)) {
          await lan.stop();
          lan = undefined;
        }
        if (lan === undefined) {
          const started = performance.now();
          lan = await startLan(home, { ...options.lan, log: (line) => log(`    ${line}`) });
          lanHome = homeKey(home);
          used = false;
          result.lanStartMs = performance.now() - started;
          // Scenarios that measure the join wait themselves; the others start from a whole mesh.
          if (scenario.fresh !== true)
            await lan.waitForMesh({ timeoutMs: 90_000, what: 'the new LAN to form its mesh' });
        } else if (used) {
          await lan.reset();
        }
        used = true;
        const ctx = context(lan, result, log);
        const started = performance.now();
        await withTimeout(scenario.run(ctx), scenario.timeoutMs(options), scenario.name);
        result.durationMs = performance.now() - started;
        log(`  PASSED in ${formatMs(result.durationMs)}`);
      } catch (error) {
        result.status = 'failed';
        result.reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        log(`  FAILED: ${result.reason}`);
        for (const warning of lan?.recentWarnings() ?? []) result.notes.push(`node log: ${warning}`);
        // A failed scenario may leave the LAN in any state: the next one gets a new LAN.
        await lan?.stop();
        lan = undefined;
      }
    }
  } finally {
    await lan?.stop();
  }
  return results;
}

function context(lan: Lan, result: ScenarioResult, log: (line: string) => void): ScenarioContext {
  return {
    lan,
    log: (line) => log(`    ${line}`),
    figure(name: string, value: number, unit: Figure['unit'] = 'ms') {
      result.figures.push({ name, value: Math.round(value * 10) / 10, unit });
      log(`    ${name}: ${formatValue(value, unit)}`);
    },
    note(text: string) {
      result.notes.push(text);
    },
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new LanTimeoutError(`scenario ${what} exceeded its bound of ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Formats milliseconds for the report. */
export function formatMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

function formatValue(value: number, unit: Figure['unit']): string {
  return unit === 'ms' ? formatMs(value) : `${value}${unit === 'count' ? '' : ` ${unit}`}`;
}

/** A readable report of the results. */
export function formatReport(results: readonly ScenarioResult[]): string {
  const lines: string[] = ['', 'LAN simulation report', ''];
  for (const r of results) {
    const mark = r.status === 'passed' ? 'PASS' : r.status === 'failed' ? 'FAIL' : 'SKIP';
    lines.push(`[${mark}] ${r.name} (${r.nodes} nodes): ${r.title}`);
    if (r.lanStartMs !== null) lines.push(`       LAN start: ${formatMs(r.lanStartMs)}`);
    if (r.status !== 'skipped') lines.push(`       steps: ${formatMs(r.durationMs)}`);
    for (const f of r.figures) lines.push(`       ${f.name}: ${formatValue(f.value, f.unit)}`);
    for (const n of r.notes) lines.push(`       note: ${n}`);
    if (r.reason !== undefined) lines.push(`       ${r.status === 'failed' ? 'error' : 'why'}: ${r.reason}`);
  }
  const passed = results.filter((r) => r.status === 'passed').length;
  const failed = results.filter((r) => r.status === 'failed').length;
  const skipped = results.filter((r) => r.status === 'skipped').length;
  lines.push('', `${passed} passed, ${failed} failed, ${skipped} skipped`);
  return lines.join('\n');
}
