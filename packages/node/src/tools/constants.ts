/** The longest one answer's tool loop may spend before it stops and answers with what it has, ms. */
export const DEFAULT_TOOL_LOOP_TIME_LIMIT_MS = 60_000;

/** The most characters of one tool result sent back to the model: a small model's context is a few thousand tokens. */
export const MAX_TOOL_RESULT_CHARS = 16_000;

/** The most characters of a result quoted in the note of a loop that stopped early. */
export const MAX_NOTE_RESULT_CHARS = 300;
