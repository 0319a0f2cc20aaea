import { join } from 'node:path';
import { runProtocolConformanceTests } from '@allerac/protocol/conformance';
import pino from 'pino';
import { createMesh, loadOrCreateMeshKey } from '../src/mesh/index.js';
import { tempDir } from './fixtures/mesh-harness.js';

// The mesh runs in this process with mDNS off (no multicast leaves the test) on 127.0.0.1.
runProtocolConformanceTests(async () => {
  const tmp = tempDir('allerac-conformance-');
  const meshKeyFile = join(tmp.dir, 'mesh.key');
  const meshKey = await loadOrCreateMeshKey(meshKeyFile);
  const mesh = createMesh(
    {
      name: 'subject',
      dataDir: tmp.dir,
      meshKeyFile,
      listenHost: '127.0.0.1',
      p2pPort: 0,
      specializations: ['home'],
      softwareVersion: '0.1.0-test',
      mdns: false,
    },
    {
      logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      cardSource: async () => ({
        backend: { state: 'down' },
        models: [],
        load: { activeTasks: 0, queueDepth: 0, slots: 1, tokensPerSecond: {} },
      }),
    },
  );
  await mesh.start();
  return {
    subject: { multiaddrs: mesh.addresses(), meshKey },
    teardown: async () => {
      await mesh.stop();
      tmp.cleanup();
    },
  };
});
