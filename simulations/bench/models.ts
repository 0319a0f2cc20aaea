/**
 * `npm run bench -- models [--mib N]`: copies a model of N MiB (default 1024) from bob's node to
 * alice's on loopback, as a user does (`POST /api/pull` on alice with `allerac.source: "peer"`:
 * alice's Ollama, an ollama-sim with a store on disk, pulls through alice's loopback registry,
 * which asks bob's models directory over MODELS_PROTOCOL and reads the blob ranges over bob's
 * bulk lane), and, side by side in the same run, sends the same weights file over a raw TCP
 * socket between two processes. Reports MB/s, the ratio, and CPU seconds per GB on each end (the
 * receiving end includes its simulated Ollama, which writes and hashes the bytes as Ollama does).
 * Then it copies the model again while chats run on alice, for the TTFT of a chat served by the
 * copying node against idle (the first copy runs alone so that its CPU figures are the copy's).
 */
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { cpuMs } from './_load.js';
import { NODE_CLI, startNodeProcess, startSimProcess, stop } from './_processes.js';
import { percentile, type Row, report } from './_report.js';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '1024' } } });
const bytes = Number(values.mib) * 1024 * 1024;
const MODEL = 'llama3.2:3b';
/** A model alice holds and serves while she copies. */
const CHAT_MODEL = 'gemma3:4b';
const IDLE_CHATS = 10;
/** CPU seconds (user + system) of a process. */
const cpuOf = (pid: number) => cpuMs(pid) / 1000;
const selfCpu = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
};

const work = mkdtempSync(join(tmpdir(), 'allerac-bench-models-'));
const storeB = join(work, 'bob-models');
const storeA = join(work, 'alice-models');
const simB = await startSimProcess([
  '--profile',
  'fast',
  '--store-dir',
  storeB,
  '--models',
  MODEL,
  '--model-bytes',
  String(bytes),
]);
const simA = await startSimProcess([
  '--profile',
  'fast',
  '--store-dir',
  storeA,
  '--models',
  `all-minilm:latest,${CHAT_MODEL}`,
]);
/** Options for Node in both node processes, e.g. `BENCH_NODE_ARGS=--cpu-prof` to profile them. */
const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter((arg) => arg !== '') ?? [];
const b = await startNodeProcess(simB.url, ['--name', 'bob', '--ollama-models-dir', storeB], {}, nodeArgs);
const token = execFileSync(process.execPath, [NODE_CLI, 'token', '--data-dir', b.dataDir], {
  encoding: 'utf8',
}).trim();
const card = (await (
  await fetch(`${b.url}/allerac/v1/node`, { headers: { authorization: `Bearer ${token}` } })
).json()) as { addresses: string[] };
const a = await startNodeProcess(
  simA.url,
  ['--name', 'alice', '--mesh-key-file', join(b.dataDir, 'mesh.key'), '--ollama-models-dir', storeA],
  { ALLERAC_BOOTSTRAP: card.addresses.join(',') },
  nodeArgs,
);

/** Pulls MODEL on alice from bob; the seconds until the bytes were in, and until it was listed. */
async function copyOverMesh(): Promise<{ bytesSeconds: number; seconds: number }> {
  const started = performance.now();
  const response = await fetch(`${a.url}/api/pull`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, allerac: { source: 'peer' } }),
  });
  if (!response.ok || response.body === null) throw new Error(`pull answered ${response.status}`);
  let copiedAt = 0;
  let last: { status?: string; error?: string } = {};
  for await (const line of createInterface({ input: Readable.fromWeb(response.body) })) {
    if (line.trim() === '') continue;
    last = JSON.parse(line) as typeof last;
    if (last.error !== undefined) throw new Error(`pull failed: ${last.error}`);
    if (last.status === 'verifying sha256 digest' && copiedAt === 0) copiedAt = performance.now();
  }
  if (last.status !== 'success') throw new Error(`pull ended with ${JSON.stringify(last)}`);
  const now = performance.now();
  return { bytesSeconds: ((copiedAt || now) - started) / 1000, seconds: (now - started) / 1000 };
}

/** Milliseconds from sending a streamed chat to alice to its first token. */
async function ttft(): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${a.url}/api/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: CHAT_MODEL, messages: [{ role: 'user', content: 'hi' }], stream: true }),
  });
  if (!response.ok || response.body === null) throw new Error(`chat answered ${response.status}`);
  let first = 0;
  for await (const line of createInterface({ input: Readable.fromWeb(response.body) })) {
    if (line.trim() === '') continue;
    const chunk = JSON.parse(line) as { message?: { content?: string }; error?: string };
    if (chunk.error !== undefined) throw new Error(`chat failed: ${chunk.error}`);
    if (first === 0 && (chunk.message?.content ?? '') !== '') first = performance.now();
  }
  if (first === 0) throw new Error('the chat streamed no token');
  return first - started;
}

try {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const tags = (await (await fetch(`${a.url}/api/tags`)).json()) as { models?: Array<{ name: string }> };
    if (tags.models?.some((m) => m.name === MODEL)) break;
    if (Date.now() > deadline) throw new Error('alice never saw bob with the model');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const manifest = JSON.parse(
    readFileSync(join(storeB, 'manifests', 'registry.ollama.ai', 'library', 'llama3.2', '3b'), 'utf8'),
  ) as { layers: Array<{ digest: string; size: number }> };
  const weights = manifest.layers[0]!;
  const weightsPath = join(storeB, 'blobs', weights.digest.replace(':', '-'));
  const total = manifest.layers.reduce((sum, layer) => sum + layer.size, 0);

  // Over the mesh, through alice's Ollama's puller.
  const receiving = () => cpuOf(a.child.pid!) + cpuOf(simA.child.pid!);
  let senderCpu = cpuOf(b.child.pid!);
  let receiverCpu = receiving();
  const aliceNodeCpu = cpuOf(a.child.pid!);
  const mesh = await copyOverMesh();
  const meshSenderCpu = cpuOf(b.child.pid!) - senderCpu;
  const meshReceiverCpu = receiving() - receiverCpu;
  const meshReceiverNodeCpu = cpuOf(a.child.pid!) - aliceNodeCpu;

  // The same weights over a raw TCP socket, from a sender process to this one, written to disk.
  const sender = spawn(
    process.execPath,
    [
      '-e',
      `const s=require('net').createServer(c=>require('fs').createReadStream(process.argv[1],{highWaterMark:1<<20}).pipe(c));s.listen(0,'127.0.0.1',()=>console.log(s.address().port));`,
      weightsPath,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = Number(
    await new Promise<string>((resolve) => createInterface({ input: sender.stdout! }).once('line', resolve)),
  );
  const out = join(work, 'raw-weights');
  senderCpu = cpuOf(sender.pid!);
  receiverCpu = selfCpu();
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const file = createWriteStream(out, { highWaterMark: 1 << 20 });
    socket.pipe(file);
    file.on('finish', resolve);
    socket.on('error', reject);
  });
  const rawSeconds = (performance.now() - started) / 1000;
  const rawSenderCpu = cpuOf(sender.pid!) - senderCpu;
  const rawReceiverCpu = selfCpu() - receiverCpu;
  sender.kill();
  if (statSync(out).size !== weights.size) throw new Error('raw copy is short');

  // TTFT of a chat on alice, idle, then while she copies the model again.
  const idle: number[] = [];
  for (let i = 0; i < IDLE_CHATS; i++) idle.push(await ttft());
  const dropped = await fetch(`${simA.url}/api/delete`, {
    method: 'DELETE',
    body: JSON.stringify({ model: MODEL }),
  });
  if (!dropped.ok) throw new Error(`could not drop the copy on alice: ${dropped.status}`);
  let copying = true;
  const during: number[] = [];
  const chats = (async () => {
    while (copying) during.push(await ttft());
  })();
  const second = await copyOverMesh().finally(() => {
    copying = false;
  });
  await chats;

  const gb = total / 1e9;
  const rawGb = weights.size / 1e9;
  const mbps = (n: number, s: number) => n / 1e6 / s;
  const rows: Row[] = [
    {
      path: 'copy (POST /api/pull source=peer: Ollama puller, loopback registry, /allerac/models/1.0.0, bulk lane)',
      MB: Math.round(total / 1e6),
      seconds: mesh.seconds,
      'MB/s': mbps(total, mesh.seconds),
      'MB/s bytes only': mbps(total, mesh.bytesSeconds),
      'sender CPU s/GB': meshSenderCpu / gb,
      'receiver CPU s/GB': meshReceiverCpu / gb,
      'of which node s/GB': meshReceiverNodeCpu / gb,
    },
    {
      path: 'raw TCP, same bytes, to disk',
      MB: Math.round(weights.size / 1e6),
      seconds: rawSeconds,
      'MB/s': mbps(weights.size, rawSeconds),
      'MB/s bytes only': mbps(weights.size, rawSeconds),
      'sender CPU s/GB': rawSenderCpu / rawGb,
      'receiver CPU s/GB': rawReceiverCpu / rawGb,
    },
  ];
  rows.push({
    path: 'the same copy again, chats on alice meanwhile',
    MB: Math.round(total / 1e6),
    seconds: second.seconds,
    'MB/s': mbps(total, second.seconds),
    'MB/s bytes only': mbps(total, second.bytesSeconds),
    'sender CPU s/GB': '-',
    'receiver CPU s/GB': '-',
  });
  const ttftRows = [
    { chat: 'idle', n: idle.length, 'TTFT p50 ms': percentile(idle, 50), 'TTFT max ms': Math.max(...idle) },
    {
      chat: 'during the copy',
      n: during.length,
      'TTFT p50 ms': percentile(during, 50),
      'TTFT max ms': Math.max(...during),
    },
  ];
  const ratio = mbps(total, mesh.seconds) / mbps(weights.size, rawSeconds);
  const ratioBytesOnly = mbps(total, mesh.bytesSeconds) / mbps(weights.size, rawSeconds);
  report('models', rows, {
    command: `npm run bench -- models --mib ${values.mib}`,
    ratio,
    ratioBytesOnly,
    ttft: ttftRows,
    note: 'the copy row includes the receiving Ollama verifying every sha256 and the copy to the usual name; "bytes only" stops at "verifying sha256 digest"',
  });
  console.table(ttftRows);
  console.log(`ratio copy/raw: ${ratio.toFixed(2)} (bytes only ${ratioBytesOnly.toFixed(2)})`);
} finally {
  await stop(a.child);
  await stop(b.child);
  await stop(simA.child);
  await stop(simB.child);
  for (const dir of [a.dataDir, b.dataDir, work]) rmSync(dir, { recursive: true, force: true });
}
