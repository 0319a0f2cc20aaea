/**
 * Which sentences of a user's message are worth proposing as memories: explicit statements about
 * the speaker, their household or their preferences ("my daughter is allergic to nuts", "we keep
 * the spare key under the blue pot", "I prefer tea"). Deterministic on purpose: it costs no model
 * call on a small machine, answers the same for the simulator as for a real model, and proposes
 * only what the person said (the person keeps or discards each one, so a miss costs little and
 * an invention never happens). Questions and requests to the agent are left out.
 */

/** The most proposals one message yields: a long paste should not flood the review list. */
export const MAX_PROPOSALS_PER_MESSAGE = 3;
/** The longest sentence proposed (characters); longer ones are rarely a single fact. */
export const MAX_PROPOSAL_CHARS = 300;
/** The most of a message looked at (characters): extraction stays cheap on any input. */
const MAX_SCANNED_CHARS = 4_000;

/** "my/our <who or what> <verb> …": a fact about the speaker's people or things. */
const POSSESSIVE =
  /^(?:my|our)\s+(?:[\p{L}\p{N}'’-]+\s+){1,4}?(?:is|are|was|were|has|have|had|likes?|loves?|hates?|prefers?|lives?|works?|needs?|can(?:not|'t|’t)?|does(?:n't|’t| not)|do(?:n't|’t| not)|goes|gets|wakes|leaves|eats|drinks|plays|speaks|takes|uses|keeps|sleeps|starts|comes|turns)\b/iu;
/** "I/we <state or habit> …". */
const FIRST_PERSON =
  /^(?:i|we)(?:'m|’m|'re|’re|\s+am|\s+are|\s+have|\s+keep|\s+live|\s+like|\s+love|\s+hate|\s+prefer|\s+usually|\s+always|\s+never|\s+work|\s+own|\s+drink|\s+eat|\s+go|\s+wake|\s+leave|\s+speak|\s+use|\s+don't|\s+don’t|\s+do not|\s+can't|\s+can’t|\s+cannot)\b/iu;
/** Openings that look like a statement but are about the conversation itself. */
const ABOUT_THE_CHAT =
  /^(?:i|we)(?:'m|’m|'re|’re|\s+am|\s+are)\s+(?:wondering|looking|trying|asking|curious|not sure|going to|thinking|confused|stuck|here)\b|^(?:i|we)\s+(?:have|had)\s+(?:a|an|another|one|some|two)\s+(?:question|problem|issue|idea|request)\b|^(?:my|our)\s+(?:question|problem|issue|request|point|answer)\b/iu;
/** Sentences addressed to the agent ("my code is broken, can you…"). */
const ADDRESSED = /\b(?:you|your|yours)\b/iu;

/** The statements of `message` to propose as memories, in order, at most MAX_PROPOSALS_PER_MESSAGE. */
export function proposeFromMessage(message: string): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  for (const match of message.slice(0, MAX_SCANNED_CHARS).matchAll(/[^.!?\n]+[.!?]*/gu)) {
    const sentence = match[0].trim();
    if (sentence.endsWith('?')) continue;
    const text = sentence
      .replace(/[.!]+$/u, '')
      .replace(/\s+/gu, ' ')
      .trim();
    if (text.length < 8 || text.length > MAX_PROPOSAL_CHARS || text.split(' ').length < 3) continue;
    if (ADDRESSED.test(text) || ABOUT_THE_CHAT.test(text)) continue;
    if (!POSSESSIVE.test(text) && !FIRST_PERSON.test(text)) continue;
    const key = text.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    found.push(text);
    if (found.length === MAX_PROPOSALS_PER_MESSAGE) break;
  }
  return found;
}
