import { runProtocolConformanceTests } from '@allerac/protocol/conformance';
import { startMesh } from './fixtures.js';

// The protocol package's conformance suite against a mesh in this process, on 127.0.0.1 with mDNS
// off (no multicast leaves the test).
runProtocolConformanceTests(async () => {
  const subject = await startMesh('subject', { init: { specializations: ['home'] } });
  return {
    subject: { multiaddrs: subject.mesh.addresses(), meshKey: subject.meshKey },
    teardown: subject.cleanup,
  };
});
