import { join } from 'node:path';
import { loadOrCreateMeshKey } from '@allerac/mesh';
import { runInferConformanceTests } from '@allerac/protocol/conformance';
import { startTestNode } from './helpers/test-node.js';

const MODEL = 'llama3.2:3b';

// The protocol package's inference channel checks against a whole node on loopback, served by
// ollama-sim (the gpu profile: 160 tok/s, so a 100,000-token answer outlasts every check).
runInferConformanceTests(async () => {
  const node = await startTestNode({
    name: 'subject',
    sim: { profile: 'gpu', models: [MODEL], preload: [MODEL] },
  });
  return {
    subject: {
      multiaddrs: node.node.mesh.mesh.addresses(),
      meshKey: await loadOrCreateMeshKey(join(node.dataDir, 'mesh.key')),
      model: MODEL,
    },
    teardown: () => node.teardown(),
  };
});
