import { expectedAnswer } from '@allerac/ollama-sim';
import { check, type Scenario } from '../scenario.js';

/** Tokens the client receives from office before office's node is killed. */
const KILL_AFTER_TOKENS = 10;
/** Answer length: long enough that office (laptop profile, ~28 tok/s) is mid-stream at the kill. */
const ANSWER_TOKENS = 80;

/**
 * host-killed: office's node is SIGKILLed mid-stream of an answer asked on kitchen; the answer is
 * continued on bedroom and the client gets it whole.
 */
export const hostKilled: Scenario = {
  name: 'host-killed',
  title: 'A host killed mid-answer: office dies mid-stream, the answer completes elsewhere',
  // kitchen has no chat model, so the answer must come from a peer; office is slow enough (laptop)
  // to be caught mid-stream, and bedroom has the model installed but not loaded, so office ranks first.
  home: () => [
    { name: 'kitchen', profile: 'cpu', models: [] },
    { name: 'office', profile: 'laptop', models: ['llama3.1:8b', 'llama3.2:3b'] },
    { name: 'bedroom', profile: 'cpu', models: ['llama3.2:3b'], preload: [] },
  ],
  timeoutMs: () => 120_000,
  async run(ctx) {
    const { lan } = ctx;
    const kitchen = lan.host('kitchen').client;
    const model = 'llama3.2:3b';
    const first = (await kitchen.route(model)).find((c) => c.eligible);
    check(first?.name === 'office', `kitchen's router ranks ${first?.name ?? 'nobody'} first for ${model}`);
    const messages = [{ role: 'user', content: 'Tell me a long story about the sea.' }];
    let killedAt = Number.NaN;
    const started = performance.now();
    const answer = await kitchen.chat(
      { model, messages, options: { num_predict: ANSWER_TOKENS } },
      {
        timeoutMs: 90_000,
        onToken: (count) => {
          if (count === KILL_AFTER_TOKENS) {
            lan.killNode('office');
            killedAt = performance.now() - started;
            ctx.log(`office's node SIGKILLed after ${count} tokens`);
          }
        },
      },
    );
    check(!Number.isNaN(killedAt), `the answer had fewer than ${KILL_AFTER_TOKENS} tokens`);
    check(answer.servedBy === 'office', `X-Allerac-Node is ${answer.servedBy}, expected office`);
    check(
      answer.content === expectedAnswer(model, messages, ANSWER_TOKENS),
      `the answer is not complete and exact: ${JSON.stringify(answer.content.slice(0, 200))}`,
    );
    check((answer.allerac?.failovers ?? 0) >= 1, `the final chunk reports ${JSON.stringify(answer.allerac)}`);
    const after = answer.tokenTimes.find((t) => t > killedAt);
    check(after !== undefined, 'no token arrived after the kill');
    ctx.figure('failover gap (kill to next token)', after - killedAt);
    ctx.figure('whole answer', answer.totalMs);
    ctx.figure('failovers', answer.allerac?.failovers ?? 0, 'count');
    ctx.note(
      `first choice office, finished by ${answer.allerac?.node}; ${answer.tokenTimes.length} content chunks`,
    );
  },
};
