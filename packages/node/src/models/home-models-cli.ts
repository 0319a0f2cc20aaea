/**
 * `allerac models list|pull|copy|rm|advise`: the home's model manager from a terminal, through the
 * running node's API (GET /allerac/v1/models/home, /api/pull, POST /allerac/v1/models/home/delete).
 * A pull draws a progress bar on a terminal and prints plain lines otherwise.
 */
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { findRunningNode } from '../backup/runtime-file.js';
import { DEFAULTS } from '../config.js';
import type { HomeDeleted, HomeModel, HomeModels } from '../contract/models-home.js';
import { callNode, cliToken, NodeNotRunningError, NodeRequestError } from '../node-client.js';

const dataDirOption = () =>
  new Option('--data-dir <dir>', 'the node data dir').env('ALLERAC_DATA_DIR').default(DEFAULTS.dataDir);

/** One of Ollama's pull progress lines. */
export interface PullProgress {
  status?: string;
  digest?: string;
  total?: number;
  completed?: number;
  error?: string;
}

function runningNode(dataDir: string): { url: string } {
  const node = findRunningNode(resolve(dataDir));
  if (node === undefined) throw new NodeNotRunningError(resolve(dataDir));
  return node;
}

const GB = 1e9;
const gb = (bytes: number) => `${(bytes / GB).toFixed(1)} GB`;

/** A cell of `models list`: what the model is on that machine, in a word. */
export function cellLabel(cell: HomeModel['cells'][number]): string {
  if (cell.transfer !== undefined && cell.transfer.total > 0)
    return `copying ${Math.floor((cell.transfer.completed / cell.transfer.total) * 100)}%`;
  if (cell.loaded) return 'loaded';
  if (cell.present) return 'present';
  switch (cell.verdict) {
    case 'fits':
      return 'fits';
    case 'fits-after-unload':
      return 'fits (unloads others)';
    case 'not-now':
      return `short ${gb(cell.neededBytes - cell.freeBytes)}`;
    case 'too-big':
      return 'too big';
  }
}

/** The matrix as a text table: a row per model, a column per machine. */
export function formatHomeTable(home: HomeModels): string {
  const header = ['MODEL', 'SIZE', ...home.machines.map((m) => m.name)];
  const rows = home.models.map((model) => [
    model.name,
    gb(model.sizeBytes),
    ...model.cells.map((cell) => cellLabel(cell)),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows]
    .map((row) =>
      row
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** One progress line as a bar for a terminal of `columns`, e.g. `pulling 6a0746a1ec1a [####  ] 45% 0.9/2.0 GB`. */
export function formatProgressBar(progress: PullProgress, columns: number): string {
  const label = `${progress.status ?? ''}`.slice(0, 40);
  if (progress.total === undefined || progress.total <= 0) return label;
  const done = Math.min(progress.completed ?? 0, progress.total);
  const percent = Math.floor((done / progress.total) * 100);
  const tail = ` ${String(percent).padStart(3)}% ${gb(done)}/${gb(progress.total)}`;
  const barWidth = Math.max(10, Math.min(40, columns - label.length - tail.length - 3));
  const filled = Math.round((barWidth * done) / progress.total);
  return `${label} [${'#'.repeat(filled)}${' '.repeat(barWidth - filled)}]${tail}`;
}

/**
 * Plain progress for a pipe or a log: a line when the status changes and at every quarter of a
 * layer, never one per chunk.
 */
export function plainProgressPrinter(write: (line: string) => void): (progress: PullProgress) => void {
  let last = '';
  let lastQuarter = -1;
  return (progress) => {
    const status = progress.status ?? '';
    const quarter =
      progress.total !== undefined && progress.total > 0
        ? Math.floor(((progress.completed ?? 0) / progress.total) * 4)
        : -1;
    if (status === last && quarter <= lastQuarter) return;
    last = status;
    lastQuarter = quarter;
    write(quarter >= 0 ? `${status} ${quarter * 25}%` : status);
  };
}

/** Streams a pull through the node, drawing its progress; throws Ollama's error if it fails. */
async function streamPull(
  dataDir: string,
  body: Record<string, unknown>,
  out: NodeJS.WriteStream = process.stdout,
): Promise<void> {
  const node = runningNode(dataDir);
  const response = await fetch(`${node.url}/api/pull`, {
    method: 'POST',
    headers: { authorization: `Bearer ${cliToken(resolve(dataDir))}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true }),
  });
  if (!response.ok || response.body === null) {
    const text = await response.text();
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {
      // not JSON: the text as it is
    }
    throw new NodeRequestError(response.status, message);
  }
  const tty = out.isTTY === true;
  const plain = plainProgressPrinter((line) => out.write(`${line}\n`));
  let buffered = '';
  let failure: string | undefined;
  const decoder = new TextDecoder();
  for await (const chunk of response.body) {
    buffered += decoder.decode(chunk, { stream: true });
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line === '') continue;
      const progress = JSON.parse(line) as PullProgress;
      if (progress.error !== undefined) failure = progress.error;
      else if (tty) out.write(`\r\x1b[2K${formatProgressBar(progress, out.columns ?? 80)}`);
      else plain(progress);
    }
  }
  if (tty) out.write('\n');
  if (failure !== undefined) throw new Error(failure);
}

async function fetchHome(dataDir: string, model?: string): Promise<HomeModels> {
  const query = model === undefined ? '' : `?model=${encodeURIComponent(model)}`;
  return callNode<HomeModels>(
    resolve(dataDir),
    runningNode(dataDir),
    'GET',
    `/allerac/v1/models/home${query}`,
  );
}

/** Refuses a pull onto a machine the model would freeze, unless forced; prints the advice. */
async function checkFit(
  dataDir: string,
  model: string,
  node: string | undefined,
  force: boolean,
): Promise<void> {
  const home = await fetchHome(dataDir, model);
  const entry = home.models.find((m) => m.name === model);
  const machine = home.machines.find((m) => (node === undefined ? m.self : m.name === node || m.id === node));
  if (entry === undefined || machine === undefined) return;
  const cell = entry.cells.find((c) => c.node === machine.id);
  if (cell?.verdict === 'too-big' && !force) {
    const warning = entry.warnings.find((w) => w.includes(` ${machine.name}`)) ?? entry.advice;
    throw new Error(`${warning} ${entry.advice} (pass --force to pull it anyway)`);
  }
  if (cell?.verdict === 'not-now') console.error(`note: ${entry.advice}`);
}

/** Registers `allerac models ...`. */
export function registerModelCommands(program: Command): void {
  const models = program
    .command('models')
    .description("the home's models: where each is, and where each fits");

  models
    .command('list')
    .description('every model of the home against every machine: present, loaded, fits, or by how much not')
    .addOption(dataDirOption())
    .option('--json', 'print JSON')
    .action(async (options: { dataDir: string; json?: boolean }) => {
      const home = await fetchHome(options.dataDir);
      if (options.json === true) console.log(JSON.stringify(home, null, 2));
      else console.log(home.models.length === 0 ? 'no models in the home yet' : formatHomeTable(home));
    });

  models
    .command('advise [model]')
    .description('where a model should live (any model; a name the home lacks is sized from its tag)')
    .addOption(dataDirOption())
    .option('--json', 'print JSON')
    .action(async (model: string | undefined, options: { dataDir: string; json?: boolean }) => {
      const home = await fetchHome(options.dataDir, model);
      const chosen = model === undefined ? home.models : home.models.filter((m) => m.name === model);
      if (options.json === true) {
        console.log(JSON.stringify(chosen, null, 2));
        return;
      }
      for (const entry of chosen) {
        console.log(entry.advice);
        for (const warning of entry.warnings) console.log(`  warning: ${warning}`);
      }
    });

  models
    .command('pull <model>')
    .description('download a model from the internet onto a machine of the home')
    .addOption(dataDirOption())
    .option('--node <node>', 'the machine to pull onto (default: this one)')
    .option('--force', 'pull even onto a machine the model would freeze')
    .action(async (model: string, options: { dataDir: string; node?: string; force?: boolean }) => {
      await checkFit(options.dataDir, model, options.node, options.force === true);
      await streamPull(options.dataDir, {
        model,
        allerac: { source: 'internet', ...(options.node !== undefined ? { node: options.node } : {}) },
      });
    });

  models
    .command('copy <model>')
    .description('copy a model from a machine of the home that holds it onto another, over the LAN')
    .addOption(dataDirOption())
    .requiredOption('--to <node>', 'the machine to copy onto')
    .option('--force', 'copy even onto a machine the model would freeze')
    .action(async (model: string, options: { dataDir: string; to: string; force?: boolean }) => {
      await checkFit(options.dataDir, model, options.to, options.force === true);
      await streamPull(options.dataDir, { model, allerac: { source: 'peer', node: options.to } });
    });

  models
    .command('rm <model>')
    .description("delete a model from a machine; the home's last copy only with --yes")
    .addOption(dataDirOption())
    .requiredOption('--node <node>', 'the machine to delete it from')
    .option('--yes', "delete it even when it is the home's last copy")
    .action(async (model: string, options: { dataDir: string; node: string; yes?: boolean }) => {
      const done = await callNode<HomeDeleted>(
        resolve(options.dataDir),
        runningNode(options.dataDir),
        'POST',
        '/allerac/v1/models/home/delete',
        { model, node: options.node, ...(options.yes === true ? { confirm: true } : {}) },
      ).catch((error: unknown) => {
        if (error instanceof NodeRequestError && error.status === 409) {
          throw new Error(
            `${error.message.replace(/; send "confirm": true.*$/, '')}; add --yes to delete it`,
          );
        }
        throw error;
      });
      console.log(
        `deleted ${done.model} from ${done.node}; ${done.copiesLeft === 0 ? 'no copy is left in the home' : `${done.copiesLeft} left in the home`}`,
      );
    });
}
