import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectedAnswer } from '@allerac/ollama-sim';
import type { ChatResult } from '../client.js';
import type { LanHost } from '../lan.js';
import { listenForMagicPacket } from '../magic-listener.js';
import { stopProcess } from '../processes.js';
import { check, type Scenario } from '../scenario.js';
import { ip } from '../shell.js';
import { waitUntil } from '../wait.js';

/** The sleeping host's MAC, set on its veth so the card's MAC is known. Locally administered. */
const GAMING_MAC = '02:a1:1e:4a:c0:0b';
/** Only the gaming PC holds it: a request for it must wake the machine. */
const ONLY_ON_GAMING = 'mistral:7b';
/** Both hold it; the gaming PC is preferred when on. */
const EVERYWHERE = 'llama3.2:3b';

interface Wake {
  outcome?: string;
  peer?: string;
  reason?: string;
}

/** PATCH /allerac/v1/settings on a host. */
async function patchSettings(host: LanHost, body: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${host.url}/allerac/v1/settings`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${host.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  check(response.ok, `PATCH settings on ${host.spec.name}: ${response.status} ${await response.text()}`);
}

/** What the host remembers of its peers on disk (wake/known-peers.ts). */
function remembered(host: LanHost, peerName: string): { wakeOnLan?: boolean; macs?: string[] } | undefined {
  try {
    const file = JSON.parse(readFileSync(join(host.dataDir, 'known-peers.json'), 'utf8')) as {
      peers: { card: { name: string; wakeOnLan?: boolean; macs?: string[] } }[];
    };
    return file.peers.find((p) => p.card.name === peerName)?.card;
  } catch {
    return undefined;
  }
}

const wakeOf = (answer: ChatResult): Wake | undefined =>
  (answer.allerac as { wake?: Wake } | undefined)?.wake;

/**
 * wake: the gaming PC sleeps (its namespace is up, its node is not running). With waking off on
 * kitchen, a request it would prefer the gaming PC for is served by kitchen at once, saying why.
 * With waking on, a request for a model only the gaming PC holds makes kitchen broadcast a magic
 * packet carrying its MAC; the harness hears it in the gaming PC's namespace, starts its node,
 * and the answer comes from the gaming PC.
 */
export const wake: Scenario = {
  name: 'wake',
  title: 'Machines that sleep: a request wakes the gaming PC with a magic packet and is served there',
  home: () => [
    { name: 'kitchen', profile: 'cpu', models: [EVERYWHERE] },
    { name: 'gaming', profile: 'gpu', models: [ONLY_ON_GAMING, EVERYWHERE] },
  ],
  timeoutMs: () => 240_000,
  async run(ctx) {
    const kitchen = ctx.lan.host('kitchen');
    const gaming = ctx.lan.host('gaming');
    ip('-n', gaming.link.netns, 'link', 'set', 'eth0', 'address', GAMING_MAC);
    // The flags change the card, which goes out with the interface's new MAC.
    await patchSettings(gaming, { wakeOnLan: true, preferredWhenOn: true });
    // Kitchen waits for any better machine no longer than this: an awake CPU box is always past it.
    await patchSettings(kitchen, { patienceMs: 0, wakeEnabled: false });
    await waitUntil(
      async () => {
        const card = remembered(kitchen, 'gaming');
        return card?.wakeOnLan === true && card.macs?.includes(GAMING_MAC) ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: "kitchen to remember gaming's card with its MAC" },
    );

    // The gaming PC goes to sleep: its node stops; its namespace (its network card) stays up.
    if (gaming.node !== undefined) await stopProcess(gaming.node);
    await waitUntil(
      async () => {
        const sleeping = await kitchen.client.get<{ name: string; wakeable: boolean }[]>(
          '/allerac/v1/peers/sleeping',
        );
        return sleeping.some((p) => p.name === 'gaming' && p.wakeable) ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'kitchen to list gaming as sleeping' },
    );
    const route = await kitchen.client.route(ONLY_ON_GAMING);
    const asleep = route.find((c) => c.name === 'gaming');
    check(
      asleep !== undefined && !asleep.eligible && asleep.reason.startsWith('asleep'),
      `kitchen's route for ${ONLY_ON_GAMING} says ${JSON.stringify(route)}`,
    );
    ctx.note(`kitchen's route for ${ONLY_ON_GAMING} while gaming sleeps: ${asleep.reason}`);
    const listener = await listenForMagicPacket(gaming.link.netns, 120_000);
    try {
      const messages = [{ role: 'user', content: 'Is anyone home?' }];
      const atOnce = await kitchen.client.chat(
        { model: EVERYWHERE, messages, options: { num_predict: 8 } },
        { timeoutMs: 60_000 },
      );
      check(atOnce.servedBy === 'kitchen', `with waking off, ${EVERYWHERE} was served by ${atOnce.servedBy}`);
      const notWoken = wakeOf(atOnce);
      check(
        notWoken?.outcome === 'not-woken' && /waking is off/.test(notWoken.reason ?? ''),
        `the answer says ${JSON.stringify(atOnce.allerac)}`,
      );
      check(listener.heard() === 0, 'a magic packet went out with waking off');
      ctx.note(
        `waking off: served by kitchen at once in ${Math.round(atOnce.totalMs)} ms: ${notWoken?.reason}`,
      );

      await patchSettings(kitchen, { wakeEnabled: true });
      const started = performance.now();
      const asked = kitchen.client.chat(
        { model: ONLY_ON_GAMING, messages, options: { num_predict: 8 } },
        { timeoutMs: 150_000 },
      );
      asked.catch(() => {});
      const mac = await listener.packet;
      const heardAt = performance.now() - started;
      check(mac === GAMING_MAC, `the magic packet carried ${mac}, expected ${GAMING_MAC}`);
      // The machine "boots": its node starts only now, on the packet.
      await ctx.lan.restartNode('gaming');
      const answer = await asked;
      check(
        answer.allerac?.node === 'gaming',
        `the woken request was served by ${JSON.stringify(answer.allerac)}`,
      );
      check(
        answer.content === expectedAnswer(ONLY_ON_GAMING, messages, 8),
        `the answer ${JSON.stringify(answer.content)} is not the one gaming would give`,
      );
      const woke = wakeOf(answer);
      check(woke?.outcome === 'woke' && woke.peer === 'gaming', `the answer says ${JSON.stringify(woke)}`);
      ctx.figure('request to magic packet heard', heardAt);
      ctx.figure('request to answer from the woken host (node start included)', answer.totalMs);
      ctx.note(`waking on: ${woke?.reason}`);
    } finally {
      listener.close();
    }
  },
};
