import { expectedAnswer } from '@allerac/ollama-sim';
import { DEFAULT_HOME } from '../home.js';
import { check, type Scenario } from '../scenario.js';

/** routing: a llama3.1:8b chat asked on kitchen (which lacks the model) is served by office. */
export const routing: Scenario = {
  name: 'routing',
  title: 'Routing to the best host: an 8B request on kitchen is served by office',
  home: () => DEFAULT_HOME.map((h) => ({ ...h })),
  timeoutMs: () => 90_000,
  async run(ctx) {
    const kitchen = ctx.lan.host('kitchen').client;
    const model = 'llama3.1:8b';
    const ranked = await kitchen.route(model);
    const first = ranked.find((c) => c.eligible);
    check(first?.name === 'office', `route?model=${model} on kitchen ranks ${first?.name ?? 'nobody'} first`);
    ctx.note(
      `kitchen's route for ${model}: ${ranked.map((c) => `${c.rank}. ${c.name} (${c.reason})`).join('; ')}`,
    );

    const messages = [{ role: 'user', content: 'What should I cook tonight?' }];
    const answer = await kitchen.chat(
      { model, messages, options: { num_predict: 24 } },
      { timeoutMs: 60_000 },
    );
    check(answer.servedBy === 'office', `X-Allerac-Node is ${answer.servedBy}, expected office`);
    check(answer.allerac?.node === 'office', `the final chunk says ${JSON.stringify(answer.allerac)}`);
    check(
      answer.content === expectedAnswer(model, messages, 24),
      'the answer is not the one office would give',
    );
    ctx.figure(`${model} via office: first token`, answer.firstTokenMs);
    ctx.figure(`${model} via office: whole answer (24 tokens)`, answer.totalMs);

    // The 3B model is everywhere: record where the router sends it (it depends on what it has measured).
    const small = await kitchen.chat(
      { model: 'llama3.2:3b', messages, options: { num_predict: 8 } },
      { timeoutMs: 60_000 },
    );
    check(small.content === expectedAnswer('llama3.2:3b', messages, 8), 'the 3B answer is wrong');
    ctx.note(`a llama3.2:3b request on kitchen went to ${small.servedBy} (every host has it)`);
  },
};
