import { expectedAnswer } from '@allerac/ollama-sim';
import { DEFAULT_HOME } from '../home.js';
import { netemUnavailableReason } from '../network.js';
import { check, type Scenario } from '../scenario.js';

/** lossy-wifi: bedroom sits on a poor Wi-Fi link (5% loss, 40 ms ± 20 ms each way); it rejoins and chats. */
export const lossyWifi: Scenario = {
  name: 'lossy-wifi',
  title: 'A lossy Wi-Fi link: 5% loss, 40 ms ± 20 ms on bedroom',
  home: () => DEFAULT_HOME.map((h) => ({ ...h })),
  timeoutMs: () => 150_000,
  unavailable: () => netemUnavailableReason(),
  async run(ctx) {
    const { lan } = ctx;
    lan.setLink('bedroom', { delayMs: 40, jitterMs: 20, lossPercent: 5 });
    ctx.log('bedroom on a lossy link; restarting its node so it joins over that link');
    const t0 = performance.now();
    await lan.restartNode('bedroom');
    await lan.waitForMesh({ timeoutMs: 90_000, what: 'bedroom to join over the lossy link' });
    ctx.figure('join over the lossy link (process start to full mesh)', performance.now() - t0);
    const rtt = (await lan.host('kitchen').client.peers()).find((p) => p.name === 'bedroom')?.rttMs;
    if (typeof rtt === 'number') ctx.figure('kitchen to bedroom mesh RTT', rtt);

    const model = 'llama3.1:8b';
    const messages = [{ role: 'user', content: 'Is the Wi-Fi in the bedroom any good?' }];
    const answer = await lan
      .host('bedroom')
      .client.chat({ model, messages, options: { num_predict: 24 } }, { timeoutMs: 60_000 });
    check(answer.servedBy === 'office', `bedroom's ${model} chat was served by ${answer.servedBy}`);
    check(answer.content === expectedAnswer(model, messages, 24), 'the answer over the lossy link is wrong');
    ctx.figure(`${model} chat on bedroom via office: whole answer`, answer.totalMs);
    lan.clearLink('bedroom');
  },
};
