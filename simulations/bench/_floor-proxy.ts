/**
 * The floor of any Node.js process in the answer's path, for the proxy and hop benchmarks: a
 * keep-alive HTTP proxy in front of ollama-sim with nothing of the node's own, in two kinds.
 * - `pipe` hands the backend's bytes on untouched: the cost of one more process and two more
 *   loopback legs, with no reading of the answer at all.
 * - `parse` reads the answer as the node must (it records the text, fails over mid-answer and adds
 *   its own final fields): it splits the NDJSON lines, parses each, keeps the text, and writes a
 *   read's lines back in one write.
 * Run as `node --import tsx _floor-proxy.ts <pipe|parse> <backend url>`; prints `{"port":N}`.
 */
import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const [mode, backendUrl] = process.argv.slice(2);
if ((mode !== 'pipe' && mode !== 'parse') || backendUrl === undefined) {
  process.stderr.write('usage: _floor-proxy.ts <pipe|parse> <backend url>\n');
  process.exit(2);
}
const backend = new URL(backendUrl);
const agent = new Agent({ keepAlive: true });

function forward(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
  const out = request(
    {
      host: backend.hostname,
      port: backend.port,
      path: req.url,
      method: req.method,
      agent,
      headers: { 'Content-Type': 'application/json', 'Content-Length': body.length },
    },
    (answer) => {
      if (mode === 'pipe') {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        return;
      }
      res.writeHead(answer.statusCode ?? 502, { 'Content-Type': 'application/x-ndjson' });
      readLines(answer, res);
    },
  );
  out.on('error', () => res.destroy());
  out.end(body);
}

function readLines(answer: IncomingMessage, res: ServerResponse): void {
  let partial = '';
  let text = '';
  answer.setEncoding('utf8');
  answer.on('data', (piece: string) => {
    const lines = (partial + piece).split('\n');
    partial = lines.pop() ?? '';
    let out = '';
    for (const line of lines) {
      if (line === '') continue;
      const chunk = JSON.parse(line) as { message?: { content?: string }; response?: string };
      text += chunk.message?.content ?? chunk.response ?? '';
      out += `${line}\n`;
    }
    if (out !== '') res.write(out);
  });
  // The text is what the node's recorder keeps; its length goes out as the answer's trailer.
  answer.on('end', () => {
    res.addTrailers({ 'X-Text-Length': String(text.length) });
    res.end(partial === '' ? undefined : partial);
  });
}

const server = createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (part: Buffer) => parts.push(part));
  req.on('end', () => forward(req, res, Buffer.concat(parts)));
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
