import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateMeshKey } from '@allerac/mesh';
import { runModelsConformanceTests } from '@allerac/protocol/conformance';
import { startTestNode } from './helpers/test-node.js';

// The protocol package's models checks against a whole node on loopback, whose Ollama (ollama-sim
// with a store on disk) holds the model in the models directory the node shares.
runModelsConformanceTests(async () => {
  const storeDir = mkdtempSync(join(tmpdir(), 'allerac-models-'));
  const node = await startTestNode({
    name: 'subject',
    sim: { profile: 'fast', models: ['llama3.2:3b'], storeDir },
    ollamaModelsDir: storeDir,
  });
  return {
    subject: {
      multiaddrs: node.node.mesh.mesh.addresses(),
      meshKey: await loadOrCreateMeshKey(join(node.dataDir, 'mesh.key')),
      model: { namespace: 'library', model: 'llama3.2', tag: '3b' },
    },
    teardown: async () => {
      await node.teardown();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
});
