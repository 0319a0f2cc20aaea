/**
 * PostgreSQL for the benchmarks' `DATABASE_URL` path: in-memory PGlite with pgvector, served on
 * loopback by @electric-sql/pglite-socket in a process of its own (as the store tests do in
 * process), so that the node under test carries no WASM heap. Prints `{ port }` once it listens.
 */
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

const db = await PGlite.create({ extensions: { vector } });
const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 10 });
await server.start();
// pglite-socket keeps its net.Server private; its address is the only way to learn port 0's pick.
const { port } = (server as unknown as { server: { address(): { port: number } } }).server.address();
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.once('SIGTERM', () => {
  void server.stop().then(() => db.close().then(() => process.exit(0)));
});
