/**
 * @allerac/ollama-sim: a faithful Ollama HTTP API simulator with hardware profiles, deterministic
 * answers and fault injection, standing in for real hardware in tests, benchmarks and demos.
 *
 * @example
 * ```ts
 * import { Ollama } from 'ollama';
 * import { expectedAnswer, startOllamaSim } from '@allerac/ollama-sim';
 *
 * const sim = await startOllamaSim({ profile: 'fast', models: ['llama3.2:3b'] });
 * const ollama = new Ollama({ host: sim.url });
 * const messages = [{ role: 'user', content: 'hello' }];
 * const reply = await ollama.chat({ model: 'llama3.2:3b', messages });
 * reply.message.content === expectedAnswer('llama3.2:3b', messages); // true
 * // Tools, thinking and format follow the model's capabilities; expectedReply predicts them.
 * const tools = [{ type: 'function', function: { name: 'weather', parameters: { type: 'object' } } }];
 * const call = await ollama.chat({ model: 'llama3.2:3b', messages, tools, stream: false });
 * call.message.tool_calls; // equals expectedReply('llama3.2:3b', { messages, tools }).tool_calls
 * await sim.close();
 * ```
 */
export { MODEL_CATALOG } from './catalog.js';
export { embedText } from './embedding.js';
export { OllamaApiError } from './errors.js';
export { type ExpectedReply, expectedReply } from './expected.js';
export { PROFILES } from './profiles.js';
export { MAX_RECORDED_REQUESTS } from './request-log.js';
export { startOllamaSim } from './server.js';
export { expectedAnswer, type ToolCall } from './text.js';
export type {
  Capability,
  FaultPlan,
  HardwareProfile,
  OllamaSim,
  OllamaSimOptions,
  RecordedRequest,
  ScriptedToolCall,
  SimModel,
  SimStats,
} from './types.js';
