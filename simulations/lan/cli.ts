/**
 * `npm run sim -- --scenario NAME|all [--nodes N] [--json out.json]` runs scenarios and prints a
 * report; `npm run sim -- --up [--nodes N]` keeps a LAN running until Ctrl-C. Needs root.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  DEFAULT_HOME,
  findScenario,
  formatReport,
  homeOfSize,
  lanUnavailableReason,
  runScenarios,
  SCENARIOS,
  startLan,
  sweepLeftovers,
} from './src/index.js';

const usage = `usage: npm run sim -- --scenario NAME|all [--nodes N] [--json out.json]
       npm run sim -- --up [--nodes N]
       npm run sim -- --clean      remove leftovers of a crashed run
       npm run sim -- --list
scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}`;

const { values } = parseArgs({
  options: {
    scenario: { type: 'string' },
    nodes: { type: 'string' },
    json: { type: 'string' },
    up: { type: 'boolean', default: false },
    clean: { type: 'boolean', default: false },
    list: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

function fail(message: string, code = 2): never {
  console.error(`sim: ${message}`);
  process.exit(code);
}

if (values.help) {
  console.log(usage);
  process.exit(0);
}
if (values.list) {
  for (const s of SCENARIOS) console.log(`${s.name.padEnd(14)} ${s.title}`);
  process.exit(0);
}
const nodes = values.nodes === undefined ? undefined : Number(values.nodes);
if (nodes !== undefined && (!Number.isInteger(nodes) || nodes < 1 || nodes > 200))
  fail('--nodes must be 1 to 200');

const reason = lanUnavailableReason();
if (reason !== undefined) fail(reason, 1);

if (values.clean) {
  const swept = sweepLeftovers();
  console.log(
    `removed ${swept.processes.length} processes, ${swept.namespaces.length} namespaces, ${swept.links.length} links`,
  );
} else if (values.up) {
  const home = nodes === undefined ? DEFAULT_HOME : homeOfSize(nodes);
  const lan = await startLan(home, { log: console.log, handleSignals: true });
  const meshMs = await lan.waitForMesh({ timeoutMs: 30_000 + home.length * 4_000 });
  console.log(
    `\nThe LAN is up; all ${home.length} nodes see each other (${Math.round(meshMs)} ms). From this shell:`,
  );
  for (const host of lan.hosts) {
    console.log(
      `  ${host.spec.name.padEnd(10)} ${host.url}  (ollama-sim ${host.simUrl}, ${host.spec.profile}: ${host.spec.models.join(', ') || 'no chat model'})`,
    );
    console.log(
      `  ${''.padEnd(10)} curl -H 'Authorization: Bearer ${host.token}' ${host.url}/allerac/v1/peers`,
    );
  }
  console.log(`  a shell inside a host: ip netns exec ${lan.hosts[0]?.link.netns ?? 'alr-kitchen'} bash`);
  console.log('\nCtrl-C tears it down.');
  // Keeps the event loop alive; the signal handlers tear down and exit.
  setInterval(() => {}, 60_000);
} else if (values.scenario !== undefined) {
  const chosen =
    values.scenario === 'all'
      ? SCENARIOS
      : [findScenario(values.scenario) ?? fail(`unknown scenario "${values.scenario}"\n${usage}`)];
  const started = new Date();
  let interrupted = false;
  const onSignal = () => {
    // runScenarios' finally tears the LAN down; a second signal exits at once (the 'exit' hook still cleans up).
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error('\ninterrupted: tearing down…');
    process.exitCode = 130;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const results = await runScenarios(chosen, { ...(nodes !== undefined ? { nodes } : {}), log: console.log });
  console.log(formatReport(results));
  if (values.json !== undefined) {
    const command = `npm run sim -- ${process.argv.slice(2).join(' ')}`;
    writeFileSync(
      values.json,
      `${JSON.stringify({ command, startedAt: started.toISOString(), results }, null, 2)}\n`,
    );
    console.log(`wrote ${values.json}`);
  }
  process.exit(results.some((r) => r.status === 'failed') ? 1 : (process.exitCode ?? 0));
} else {
  fail(usage);
}
