/** Every scenario, in the order `--scenario all` runs them (scenarios on the same home share a LAN). */
import type { Scenario } from '../scenario.js';
import { hostKilled } from './failover.js';
import { bigHome, join } from './join.js';
import { leaveRejoin } from './leave-rejoin.js';
import { lossyWifi } from './lossy-wifi.js';
import { partitionHeal } from './partition.js';
import { routing } from './routing.js';
import { wake } from './wake.js';

/** The scenarios by name. */
export const SCENARIOS: readonly Scenario[] = [
  join,
  routing,
  leaveRejoin,
  partitionHeal,
  lossyWifi,
  hostKilled,
  wake,
  bigHome,
];

/** Looks a scenario up by name. */
export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
